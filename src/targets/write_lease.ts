/**
 * Shared write leases on one target object (an IONOS or Contabo user), held only while the
 * writing IdP entity is the object's holder in a managed index (hash: target id -> IdP id).
 *
 * Why: a job reads its record and the object, then writes. In between, the object may pass to
 * another IdP entity (its IdP user deleted with the account kept, the person re-created under a
 * new id: a take-over). Written then, the old user's deactivation lands on the new owner after
 * its job ran, or the old user's `administrator` or group membership is given to it. The check
 * and the write cannot be one call to the cloud, hence a lease: the check and the lease are one
 * Redis script, a take-over (`IDLE_GUARD`) refuses while any lease is held, and a write
 * after the take-over is not made. Several jobs of the same holder may write at once (its user
 * job, and group jobs adding it as a member): the lease is a sorted set of tokens and deadlines,
 * not a lock. A worker that dies lets go when the deadline passes.
 *
 * Used by `IonosRecords.whileHolding()` and Contabo's `TargetLinks.whileHolding()`, whose writes
 * are done when the call returns (no `landed`).
 */
import type { Redis } from "ioredis";
import { LuaScript } from "../store/lua_script.ts";

/** Lua: drops lapsed tokens of the lease at KEYS[n]; `now` is Redis' clock in ms. */
const PRUNE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: the managed index, the lease. ARGV: target id, IdP id, token, lease ms. Adds the token
 * only while that IdP entity holds the target id: 1 taken, 0 not its holder (any more).
 */
const TAKE_SCRIPT = new LuaScript(`${PRUNE}
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]) * 2)
return 1
`);

/** KEYS: the lease. ARGV: token, lease ms (0: let go). Renews or ends the token while there. */
const RENEW_SCRIPT = new LuaScript(`${PRUNE}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
if ARGV[2] == '0' then redis.call('ZREM', KEYS[1], ARGV[1]) return 1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1
`);

/**
 * Lua to put first in a hand-over script whose KEYS[1] is the lease: returns 0 (nothing handed
 * over) while a write holds it.
 */
export const IDLE_GUARD = `${PRUNE}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
`;

/** How long a lease token lasts unless renewed (a worker that died lets go after this). */
export const LEASE_MS = 30_000;
/** How often a held token is renewed. */
const RENEW_EVERY_MS = 10_000;

/** What a write under a lease gives back: its value, and when it has landed (if later). */
export interface LeasedWrite<T> {
  value: T;
  /**
   * Resolves once the write has taken effect, when that is after the call returned (an IONOS
   * request answered 202 and not yet DONE): the lease is held until then, so that a take-over,
   * and the new owner's read after it, come after the write landed.
   */
  landed?: Promise<unknown> | undefined;
}

/**
 * Runs `write` only while `idpId` holds `targetId` in `indexKey`, under a token in `leaseKey`,
 * kept (renewed) until the write has landed.
 *
 * @returns `{ held: false }` without writing when `idpId` no longer holds `targetId`
 */
export async function whileHoldingLease<T>(
  redis: Redis,
  keys: { index: string; lease: string },
  targetId: string,
  idpId: string,
  write: () => Promise<LeasedWrite<T>>,
): Promise<{ held: true; value: T } | { held: false }> {
  const token = crypto.randomUUID();
  const taken = await TAKE_SCRIPT.run(redis, [keys.index, keys.lease], [
    targetId,
    idpId,
    token,
    LEASE_MS,
  ]);
  if (taken !== 1) return { held: false };
  const renew = setInterval(() => {
    RENEW_SCRIPT.run(redis, [keys.lease], [token, LEASE_MS]).catch(() => {});
  }, RENEW_EVERY_MS);
  const release = () => {
    clearInterval(renew);
    return RENEW_SCRIPT.run(redis, [keys.lease], [token, 0]);
  };
  let result: LeasedWrite<T>;
  try {
    result = await write();
  } catch (error) {
    await release();
    throw error;
  }
  if (!result.landed) {
    await release();
  } else {
    // The job goes on (and may give its worker slot back); the lease stays until it landed.
    void result.landed.catch(() => {}).then(release).catch(() => {});
  }
  return { held: true, value: result.value };
}
