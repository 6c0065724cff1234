/**
 * A comparable picture of everything in Redis, so a test can show that a run of rejected
 * requests wrote nothing at all: no key added, removed or changed, no job queued.
 */
import type { Redis } from "ioredis";

/** Key -> "<type> <content>", contents sorted where Redis does not order them. */
export type RedisSnapshot = Map<string, string>;

export async function snapshotRedis(redis: Redis): Promise<RedisSnapshot> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  const snapshot: RedisSnapshot = new Map();
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    snapshot.set(key, `${type} ${await content(redis, key, type)}`);
  }
  return snapshot;
}

async function content(redis: Redis, key: string, type: string): Promise<string> {
  switch (type) {
    case "string":
      return (await redis.get(key)) ?? "";
    case "hash":
      return JSON.stringify(Object.entries(await redis.hgetall(key)).sort());
    case "list":
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case "set":
      return JSON.stringify((await redis.smembers(key)).sort());
    case "zset":
      return JSON.stringify(await redis.zrange(key, "0", "-1", "WITHSCORES"));
    case "stream":
      return JSON.stringify(await redis.xrevrange(key, "+", "-", "COUNT", 1));
    default:
      return "";
  }
}

/** Keys added, removed or changed between two snapshots (at most `limit` of them). */
export function snapshotDiff(a: RedisSnapshot, b: RedisSnapshot, limit = 20): string[] {
  const out: string[] = [];
  for (const [k, v] of b) {
    if (!a.has(k)) out.push(`added ${k}: ${v.slice(0, 200)}`);
    else if (a.get(k) !== v) out.push(`changed ${k}: ${v.slice(0, 200)}`);
  }
  for (const k of a.keys()) if (!b.has(k)) out.push(`removed ${k}`);
  return out.slice(0, limit);
}
