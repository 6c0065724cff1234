/**
 * A check that every key a Lua script touches was passed to it in KEYS, as Redis requires of
 * scripts (https://redis.io/docs/latest/develop/interact/programmability/eval-intro/, "Script
 * parameterization"): Redis itself does not enforce it. A Cluster refuses a key of another slot
 * than the declared ones, but our keys share one hash tag, so an undeclared key goes through
 * there too. With `SYNC_LUA_KEY_GUARD=1` (the tests set it, see vitest.config.ts and
 * test/_support/harness.ts) every script is run wrapped so that a command naming a key outside
 * KEYS raises an error instead. Off in production: it costs a table of KEYS per call.
 */

/** The environment variable that turns the guard on ("1"). */
export const LUA_KEY_GUARD_ENV = "SYNC_LUA_KEY_GUARD";

/**
 * Defined before the script's own code. Commands are looked up in a table of where their keys
 * are: a command the table does not know fails, so a new command is classified before it runs.
 */
const PRELUDE = `local keyGuardDeclared = {}
for _, k in ipairs(KEYS) do keyGuardDeclared[k] = true end
local keyGuardFirstKey = {}
for _, c in ipairs({ 'GET', 'SET', 'INCR', 'INCRBY', 'EXPIRE', 'PEXPIRE', 'TTL', 'PTTL',
  'HGET', 'HSET', 'HDEL', 'HKEYS', 'HGETALL', 'HEXISTS', 'HLEN', 'HINCRBY', 'HMGET',
  'SADD', 'SREM', 'SMEMBERS', 'SISMEMBER', 'SCARD',
  'ZADD', 'ZREM', 'ZSCORE', 'ZCARD', 'ZRANGE', 'ZRANGEBYSCORE', 'ZREMRANGEBYSCORE',
  'LPUSH', 'RPUSH', 'LTRIM', 'LRANGE', 'LLEN', 'XADD', 'XTRIM', 'XLEN' }) do
  keyGuardFirstKey[c] = true
end
local keyGuardAllKeys = { DEL = true, EXISTS = true, MGET = true, UNLINK = true }
local function keyGuardCall(fn, cmd, ...)
  local name = string.upper(cmd)
  local last = 0
  if keyGuardFirstKey[name] then last = 1
  elseif keyGuardAllKeys[name] then last = select('#', ...)
  elseif name ~= 'TIME' then error('lua key guard: no key positions known for ' .. name) end
  for i = 1, last do
    local key = select(i, ...)
    if not keyGuardDeclared[key] then
      error('lua key guard: ' .. name .. ' on a key not in KEYS: ' .. tostring(key))
    end
  end
  return fn(cmd, ...)
end
`;

/**
 * The script with every `redis.call(` and `redis.pcall(` routed through the guard.
 *
 * @example
 * guardLuaKeys("return redis.call('GET', KEYS[1])")
 */
export function guardLuaKeys(source: string): string {
  return PRELUDE + source.replace(/\bredis\.(p?call)\(/g, "keyGuardCall(redis.$1, ");
}

let on: boolean | undefined;

/** Whether `SYNC_LUA_KEY_GUARD=1`; read once (false without permission to read it). */
export function luaKeyGuardOn(): boolean {
  if (on === undefined) {
    try {
      on = Deno.env.get(LUA_KEY_GUARD_ENV) === "1";
    } catch {
      on = false;
    }
  }
  return on;
}

/** The text to send for `source`: guarded when the guard is on, else unchanged. */
export function luaSource(source: string): string {
  return luaKeyGuardOn() ? guardLuaKeys(source) : source;
}
