/**
 * One IONOS account (or group), one owner: a binding from a value that identifies it (a
 * normalized email, a group name) to the one IdP entity that may create, adopt or move an IONOS
 * resource to it. The binding is claimed atomically in Redis before any such write, so two IdP
 * users (or groups) racing for one value can never share a resource, however long IONOS takes to
 * finish a create (docs/security.md, "One account, one owner"). A loser is remembered, and when
 * the value is released the caller re-syncs it, so a conflict ends once its cause is gone.
 */
import type { Redis } from "ioredis";
import { type StoreKeys, storeKeys } from "./keys.ts";
import { LuaScript } from "./lua_script.ts";

// KEYS[1] owners hash, KEYS[2] the claimant's held set, KEYS[3] the value's waiters;
// ARGV[1] value, ARGV[2] IdP id. Returns "" when the claimant holds the value now, else the owner.
const CLAIM = new LuaScript(`
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and owner ~= ARGV[2] then
  redis.call('SADD', KEYS[3], ARGV[2])
  return owner
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[2])
return ''`);

// KEYS[1] owners hash, KEYS[2] the holder's held set, KEYS[3..] the waiters sets of the values
// ARGV[2] (JSON array) names in order; ARGV[1] IdP id, ARGV[3..] values to keep. Releases every
// other value the holder has, and returns {1, ids that waited for any of them} (their waiter
// sets are emptied). Which values the holder has only Redis knows: when a value to release has
// no waiters key in KEYS, returns {0, those values} having written nothing.
const RELEASE = new LuaScript(`
local keep, waitersKey, missing = {}, {}, {}
for i = 3, #ARGV do keep[ARGV[i]] = true end
for i, value in ipairs(cjson.decode(ARGV[2])) do waitersKey[value] = KEYS[i + 2] end
local held = redis.call('SMEMBERS', KEYS[2])
for _, value in ipairs(held) do
  if not keep[value] and not waitersKey[value] then missing[#missing + 1] = value end
end
if #missing > 0 then return { 0, missing } end
local waiters = {}
for _, value in ipairs(held) do
  if not keep[value] then
    if redis.call('HGET', KEYS[1], value) == ARGV[1] then
      redis.call('HDEL', KEYS[1], value)
      local wkey = waitersKey[value]
      for _, id in ipairs(redis.call('SMEMBERS', wkey)) do waiters[#waiters + 1] = id end
      redis.call('DEL', wkey)
    end
    redis.call('SREM', KEYS[2], value)
  end
end
return { 1, waiters }`);

/** Calls of the release script before giving up; a second comes with values to release. */
const MAX_RELEASE_CALLS = 5;

/** The outcome of a claim: held by the claimant, or by another IdP entity. */
export type ClaimResult = { held: true } | { held: false; owner: string };

/** What is bound: emails of IONOS users, or names of IONOS groups. */
export type BindingKind = "email" | "group-name";

/**
 * @example
 * const emails = new OwnerBindings(redis, { kind: "email" });
 * const claim = await emails.claim("ada@example.com", "00u1");
 * if (!claim.held) throw new SyncConflictError(`... belongs to ${claim.owner}`);
 */
export class OwnerBindings {
  readonly keys: StoreKeys;
  readonly kind: BindingKind;
  readonly #redis: Redis;

  constructor(redis: Redis, options: { kind: BindingKind; prefix?: string }) {
    this.#redis = redis;
    this.kind = options.kind;
    this.keys = storeKeys(options.prefix ?? "sync");
  }

  /** Claims `value` (already normalized) for the IdP entity, unless another one holds it. */
  async claim(value: string, idpId: string): Promise<ClaimResult> {
    const owner = await CLAIM.run(
      this.#redis,
      [
        this.keys.owners(this.kind),
        this.keys.held(this.kind, idpId),
        this.keys.waiters(this.kind, value),
      ],
      [value, idpId],
    ) as string;
    return owner === "" ? { held: true } : { held: false, owner };
  }

  /**
   * Releases every value the IdP entity holds except `keep`.
   * @returns the IdP ids that lost a claim on a released value: sync them again.
   */
  async releaseAllBut(idpId: string, keep: string[] = []): Promise<string[]> {
    // Most calls release nothing and need no waiters key: the first call declares none, and
    // learns the values to release when there are any.
    let release: string[] = [];
    for (let call = 1;; call++) {
      const [done, ids] = await RELEASE.run(
        this.#redis,
        [
          this.keys.owners(this.kind),
          this.keys.held(this.kind, idpId),
          ...release.map((value) => this.keys.waiters(this.kind, value)),
        ],
        [idpId, JSON.stringify(release), ...keep],
      ) as [number, string[]];
      if (done === 1) return ids;
      if (call === MAX_RELEASE_CALLS) {
        throw new Error(
          `Cannot release values of ${idpId} as they kept changing over ${call} calls`,
        );
      }
      release = [...release, ...ids];
    }
  }

  /** The IdP entity that holds `value` (normalized), if any. */
  async ownerOf(value: string): Promise<string | undefined> {
    return (await this.#redis.hget(this.keys.owners(this.kind), value)) ?? undefined;
  }
}
