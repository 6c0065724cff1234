/**
 * A Lua script run by its SHA-1 (EVALSHA), so the script text crosses the wire once per Redis
 * start instead of with every call. After a restart or SCRIPT FLUSH, Redis answers NOSCRIPT and
 * the call is repeated with the full text (EVAL), which caches it again.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

type Arg = string | number;

export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /**
   * @example
   * const script = new LuaScript("return redis.call('GET', KEYS[1])");
   * await script.run(redis, ["k"]);
   */
  async run(redis: Redis, keys: readonly string[], args: readonly Arg[] = []): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String(error).includes("NOSCRIPT")) throw error;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
