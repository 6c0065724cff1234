/**
 * One IONOS account, one owner: a binding from a normalized email to the one IdP user that may
 * create, adopt or move an IONOS account to it. The binding is claimed atomically in Redis before
 * any such write, so two IdP users racing for one email can never share an account, however long
 * IONOS takes to finish a create (docs/security.md, "One account, one owner").
 */
import type { Redis } from "ioredis";
import { type StoreKeys, storeKeys } from "./keys.ts";
import { LuaScript } from "./lua_script.ts";

// KEYS[1] owners hash, KEYS[2] the claimant's email set; ARGV[1] email, ARGV[2] IdP user id.
// Returns "" when the claimant holds the email now, else the other owner's id.
const CLAIM = new LuaScript(`
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and owner ~= ARGV[2] then return owner end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return ''`);

// KEYS as CLAIM; ARGV[1] IdP user id, ARGV[2..] emails to keep. Releases every other email the
// user holds, but only where it is still the owner.
const RELEASE = new LuaScript(`
local keep = {}
for i = 2, #ARGV do keep[ARGV[i]] = true end
for _, email in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if not keep[email] then
    if redis.call('HGET', KEYS[1], email) == ARGV[1] then redis.call('HDEL', KEYS[1], email) end
    redis.call('SREM', KEYS[2], email)
  end
end
return 0`);

/** The outcome of a claim: held by the claimant, or by another IdP user. */
export type ClaimResult = { held: true } | { held: false; owner: string };

/**
 * @example
 * const owners = new EmailOwners(redis);
 * const claim = await owners.claim("ada@example.com", "00u1");
 * if (!claim.held) throw new SyncConflictError(`... belongs to ${claim.owner}`);
 */
export class EmailOwners {
  readonly keys: StoreKeys;
  readonly #redis: Redis;

  constructor(redis: Redis, options: { prefix?: string } = {}) {
    this.#redis = redis;
    this.keys = storeKeys(options.prefix ?? "sync");
  }

  /** Claims `email` (already normalized) for the IdP user, unless another one holds it. */
  async claim(email: string, idpId: string): Promise<ClaimResult> {
    const owner = await CLAIM.run(
      this.#redis,
      [this.keys.emailOwners, this.keys.userEmails(idpId)],
      [email, idpId],
    ) as string;
    return owner === "" ? { held: true } : { held: false, owner };
  }

  /** Releases every email the IdP user holds except `keep` (normalized). */
  async releaseAllBut(idpId: string, keep: string[] = []): Promise<void> {
    await RELEASE.run(
      this.#redis,
      [this.keys.emailOwners, this.keys.userEmails(idpId)],
      [idpId, ...keep],
    );
  }

  /** The IdP user that holds `email` (normalized), if any. */
  async ownerOf(email: string): Promise<string | undefined> {
    return (await this.#redis.hget(this.keys.emailOwners, email)) ?? undefined;
  }
}
