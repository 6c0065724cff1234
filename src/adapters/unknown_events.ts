/**
 * Counts provider events we acknowledge but don't act on (unknown or irrelevant types), in the
 * Redis hash `<prefix>:stats:unknown-events`, field `<source>:<type>`. A growing count tells an
 * operator that the IdP sends something worth mapping, or that its webhook subscribes to too much.
 */
import type { Redis } from "ioredis";
import { storeKeys } from "../store/keys.ts";
import { LuaScript } from "../store/lua_script.ts";

const key = (prefix: string) => storeKeys(prefix).unknownEvents;

/** Distinct `<source>:<type>` fields kept before new types are lumped together. */
export const MAX_TYPES = 500;

/**
 * KEYS[1] the hash; ARGV[1] the field, ARGV[2] the overflow field, ARGV[3] MAX_TYPES. One round
 * trip, and the size check and the increment can't interleave with another delivery's.
 */
const COUNT_SCRIPT = new LuaScript(`
local field = ARGV[1]
if redis.call('HEXISTS', KEYS[1], field) == 0
  and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  field = ARGV[2]
end
return redis.call('HINCRBY', KEYS[1], field, 1)
`);

/** Adds one to the count of `type` from `source`. */
export async function countUnknownEvent(
  redis: Redis,
  source: string,
  type: string,
  prefix = "sync",
): Promise<void> {
  // A sender that invents a new type per delivery must not grow the hash without limit: past
  // MAX_TYPES distinct types, new ones are counted together under "<source>:(other)".
  await COUNT_SCRIPT.run(redis, [key(prefix)], [
    `${source}:${type.slice(0, 200)}`,
    `${source}:(other)`,
    MAX_TYPES,
  ]);
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
