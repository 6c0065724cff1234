/**
 * Counts provider events we acknowledge but don't act on (unknown or irrelevant types), in the
 * Redis hash `<prefix>:stats:unknown-events`, field `<source>:<type>`. A growing count tells an
 * operator that the IdP sends something worth mapping, or that its webhook subscribes to too much.
 */
import type { Redis } from "ioredis";

const key = (prefix: string) => `${prefix}:stats:unknown-events`;

/** Distinct `<source>:<type>` fields kept before new types are lumped together. */
export const MAX_TYPES = 500;

/** Adds one to the count of `type` from `source`. */
export async function countUnknownEvent(
  redis: Redis,
  source: string,
  type: string,
  prefix = "sync",
): Promise<void> {
  const field = `${source}:${type.slice(0, 200)}`;
  // A sender that invents a new type per delivery must not grow the hash without limit: past
  // MAX_TYPES distinct types, new ones are counted together under "<source>:(other)".
  const known = await redis.hexists(key(prefix), field);
  const full = !known && (await redis.hlen(key(prefix))) >= MAX_TYPES;
  await redis.hincrby(key(prefix), full ? `${source}:(other)` : field, 1);
}

/**
 * Every count, keyed `<source>:<type>`.
 *
 * @example
 * await readUnknownEventCounts(redis) // { "workos:connection.activated": 3 }
 */
export async function readUnknownEventCounts(
  redis: Redis,
  prefix = "sync",
): Promise<Record<string, number>> {
  const all = await redis.hgetall(key(prefix));
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, Number(v)]));
}
