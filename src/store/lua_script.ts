/**
 * A Lua script run through ioredis' `defineCommand`: ioredis sends it by SHA-1 (EVALSHA), falls
 * back to the full text (EVAL) on NOSCRIPT after a restart or SCRIPT FLUSH, and does the same
 * inside pipelines and on a Cluster. This class only names the script after its text and
 * defines it once per connection, so call sites keep one object per script.
 *
 * A script gets every key it touches in KEYS, built by src/store/keys.ts; under the tests' key
 * guard (lua_key_guard.ts) a key outside KEYS fails the call.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { luaSource } from "./lua_key_guard.ts";

type Arg = string | number;
type DefinedCommand = (numberOfKeys: number, ...keysAndArgs: Arg[]) => Promise<unknown>;

/** Script names defined on each connection (ioredis keeps the commands per client). */
const defined = new WeakMap<object, Set<string>>();

export class LuaScript {
  /** The text sent to Redis (wrapped by the key guard when it is on). */
  readonly source: string;
  readonly sha: string;
  /** The command name on a connection: unique per script text. */
  readonly name: string;

  constructor(source: string) {
    this.source = luaSource(source);
    this.sha = createHash("sha1").update(this.source).digest("hex");
    this.name = `syncLua_${this.sha}`;
  }

  /**
   * @example
   * const script = new LuaScript("return redis.call('GET', KEYS[1])");
   * await script.run(redis, ["k"]);
   */
  async run(redis: Redis, keys: readonly string[], args: readonly Arg[] = []): Promise<unknown> {
    let names = defined.get(redis);
    if (!names) defined.set(redis, names = new Set());
    if (!names.has(this.name)) {
      // No numberOfKeys: each call passes its own key count first (scripts take varying keys).
      redis.defineCommand(this.name, { lua: this.source });
      names.add(this.name);
    }
    const command = (redis as unknown as Record<string, DefinedCommand>)[this.name]!;
    return await command.call(redis, keys.length, ...keys, ...args);
  }
}
