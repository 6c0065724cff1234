/**
 * What we know of each managed entity's IONOS twin: its IONOS id, whether we created or adopted
 * it, and the last sync result. Only entities recorded here are ever changed in IONOS.
 */
import type { Redis } from "ioredis";
import { LuaScript } from "../../store/lua_script.ts";
import { type StoreKeys, storeKeys } from "../../store/keys.ts";
import { IDLE_GUARD, type LeasedWrite, whileHoldingLease } from "../write_lease.ts";

/**
 * KEYS: the managed index, the record. ARGV: IONOS id, IdP id, then field, value pairs. Writes
 * the record and indexes the IONOS id, unless another IdP entity holds that id (it passed on,
 * see `handOver()`): then nothing is written (0).
 */
const LINKED_SET_SCRIPT = new LuaScript(`
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and owner ~= ARGV[2] then return 0 end
if #ARGV > 2 then redis.call('HSET', KEYS[2], unpack(ARGV, 3)) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`);

/**
 * KEYS: the write lease, the managed index, the holder's record. ARGV: IONOS id, holder. Forgets
 * the holder's twin (as forget() does), unless a job is writing to the account for it (0).
 */
const HAND_OVER_SCRIPT = new LuaScript(`${IDLE_GUARD}
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
redis.call('DEL', KEYS[3])
return 1
`);

export interface IonosTwin {
  /** IONOS id, once the twin exists. */
  ionosId?: string;
  /** "created" by us, or "adopted" (it existed in IONOS with the same email or name). */
  origin?: "created" | "adopted";
  /** "creating" is written before a create call so a retry after a lost answer adopts it. */
  /** "conflict": stopped by a conflict only a person can resolve (`lastError` says which). */
  state?: "creating" | "synced" | "failed" | "conflict" | "deleted" | "skipped";
  /** Email (users) or name (groups) last written to IONOS. */
  label?: string;
  lastSyncAt?: string;
  lastResult?: string;
  lastError?: string;
  /**
   * Groups only, adopted ones: the privileges (comma-separated names) the group had when it was
   * adopted, which it keeps unless the mapping names privileges for it.
   */
  ownPrivileges?: string;
  /** Groups only: members of this group still waiting for their IONOS user (count). */
  pendingMembers?: string;
  /**
   * Groups only: the resource shares the service set (src/targets/ionos/access_decisions.ts), the only
   * ones it ever removes: `resourceId:c` (created) or `resourceId:<edit><share>` (a share made
   * by hand that the mapping took over, with the flags it had).
   */
  managedShares?: string;
  /**
   * Groups only, while a create is sent: ids of the groups that had its name just before, never
   * taken for our own create after a lost answer (names are not unique in IONOS). "" after.
   */
  namesakes?: string;
  /** Users only: ids of the S3 keys the service turned off, the only ones it turns on again. */
  s3KeysOff?: string;
  /**
   * The request of our own create while it runs (state "creating" with an `ionosId`): the next
   * run of the job checks it before anything else (workers/request_steps.ts). "" once DONE.
   */
  request?: string;
  /** The `Date` header of that create's answer, to find it in the requests listing. */
  requestDate?: string;
}

type Kind = "user" | "group";

/**
 * @example
 * const records = new IonosRecords(redis);
 * await records.set("user", "00u1", { ionosId: "u-1", origin: "created", state: "synced" });
 */
export class IonosRecords {
  readonly keys: StoreKeys;
  readonly #redis: Redis;

  constructor(redis: Redis, options: { prefix?: string } = {}) {
    this.#redis = redis;
    this.keys = storeKeys(options.prefix ?? "sync");
  }

  #key(kind: Kind, id: string): string {
    return kind === "user" ? this.keys.ionosUser(id) : this.keys.ionosGroup(id);
  }
  #index(kind: Kind): string {
    return kind === "user" ? this.keys.managedUsers : this.keys.managedGroups;
  }

  async get(kind: Kind, idpId: string): Promise<IonosTwin | undefined> {
    const h = await this.#redis.hgetall(this.#key(kind, idpId));
    return Object.keys(h).length ? h as IonosTwin : undefined;
  }

  /** Several records in one round trip; `undefined` where there is none. */
  async getMany(kind: Kind, idpIds: string[]): Promise<(IonosTwin | undefined)[]> {
    if (idpIds.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of idpIds) pipeline.hgetall(this.#key(kind, id));
    const results = await pipeline.exec();
    return (results ?? []).map(([, h]) => {
      const record = h as Record<string, string> | null;
      return record && Object.keys(record).length ? record as IonosTwin : undefined;
    });
  }

  /**
   * Merges `patch` into the record; an `ionosId` is also indexed as managed. A patch naming an
   * IONOS id another IdP entity holds now (taken over since the job read it) writes nothing: a
   * job of the old holder must not link it back.
   *
   * @returns whether it was written
   */
  async set(kind: Kind, idpId: string, patch: IonosTwin): Promise<boolean> {
    const fields = Object.entries(patch).filter(([, v]) => v !== undefined) as [string, string][];
    if (patch.ionosId) {
      const done = await LINKED_SET_SCRIPT.run(
        this.#redis,
        [this.#index(kind), this.#key(kind, idpId)],
        [patch.ionosId, idpId, ...fields.flat()],
      );
      return done === 1;
    }
    if (fields.length) await this.#redis.hset(this.#key(kind, idpId), Object.fromEntries(fields));
    return true;
  }

  /**
   * Runs `write` to the IONOS user `ionosId` only while `idpId` holds it, under a lease kept
   * until the write has landed (`landed`), so that it does not pass to another IdP user
   * meanwhile (`handOver()` waits). See src/targets/write_lease.ts for why.
   *
   * @returns `{ held: false }`, without writing, when `idpId` no longer holds it
   */
  async whileHolding<T>(
    idpId: string,
    ionosId: string,
    write: () => Promise<LeasedWrite<T>>,
  ): Promise<{ held: true; value: T } | { held: false }> {
    return await whileHoldingLease(
      this.#redis,
      { index: this.keys.managedUsers, lease: this.keys.ionosWriting(ionosId) },
      ionosId,
      idpId,
      write,
    );
  }

  /**
   * Forgets `holder`'s twin of the IONOS user `ionosId` so another IdP user can take it over,
   * unless a job is writing to it for `holder` now (`whileHolding()`): then nothing changes.
   *
   * @returns whether it was handed over
   */
  async handOver(holder: string, ionosId: string): Promise<boolean> {
    const done = await HAND_OVER_SCRIPT.run(
      this.#redis,
      [this.keys.ionosWriting(ionosId), this.keys.managedUsers, this.#key("user", holder)],
      [ionosId, holder],
    );
    return done === 1;
  }

  /** Forgets the twin (after it was deleted in IONOS): it is no longer managed. */
  async forget(kind: Kind, idpId: string, ionosId?: string): Promise<void> {
    const multi = this.#redis.multi().del(this.#key(kind, idpId));
    if (ionosId) multi.hdel(this.#index(kind), ionosId);
    await multi.exec();
  }

  /** IONOS id -> IdP id of every managed twin of that kind. */
  async managed(kind: Kind): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.#redis.hgetall(this.#index(kind))));
  }

  /**
   * Notes that these entities were asked to sync for a reason outside the wanted state (IONOS
   * drift found by reconcile): a job that waits for its requests with its slot given back would
   * otherwise not see the ask, which the queue folds into it (workers/wanted_fingerprint.ts).
   */
  async nudge(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const now = String(Date.now());
    await this.#redis.hset(this.keys.nudges, Object.fromEntries(keys.map((k) => [k, now])));
  }

  /** When `key` was last nudged (ms as text), if ever. */
  async nudgedAt(key: string): Promise<string | undefined> {
    return await this.#redis.hget(this.keys.nudges, key) ?? undefined;
  }

  /** Some fields of several records in one round trip (HMGET each); absent fields are left out. */
  async fieldsOf<F extends keyof IonosTwin>(
    kind: Kind,
    idpIds: string[],
    fields: F[],
  ): Promise<Pick<IonosTwin, F>[]> {
    if (idpIds.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of idpIds) pipeline.hmget(this.#key(kind, id), ...fields);
    const results = await pipeline.exec();
    return (results ?? []).map(([, values]) =>
      Object.fromEntries(
        fields.flatMap((f, i) => {
          const v = (values as (string | null)[] | null)?.[i];
          return typeof v === "string" ? [[f, v]] : [];
        }),
      ) as Pick<IonosTwin, F>
    );
  }

  /** The IdP id whose twin is this IONOS id, if we manage it. */
  async ownerOf(kind: Kind, ionosId: string): Promise<string | undefined> {
    return (await this.#redis.hget(this.#index(kind), ionosId)) ?? undefined;
  }

  /** The IdP ids whose twins are these IONOS ids, in one round trip; unmanaged ones left out. */
  async ownersOf(kind: Kind, ionosIds: string[]): Promise<string[]> {
    return (await this.#owners(kind, ionosIds)).filter((o): o is string => o !== null);
  }

  /** Which of these IONOS ids we manage, in one round trip (not the whole index). */
  async managedAmong(kind: Kind, ionosIds: string[]): Promise<Set<string>> {
    const owners = await this.#owners(kind, ionosIds);
    return new Set(ionosIds.filter((_, i) => owners[i] !== null));
  }

  /** The owner (IdP id) of each IONOS id, `null` where unmanaged: one HMGET on the index. */
  async #owners(kind: Kind, ionosIds: string[]): Promise<(string | null)[]> {
    return ionosIds.length ? await this.#redis.hmget(this.#index(kind), ...ionosIds) : [];
  }

  async countManaged(): Promise<{ users: number; groups: number }> {
    const [users, groups] = await Promise.all([
      this.#redis.hlen(this.keys.managedUsers),
      this.#redis.hlen(this.keys.managedGroups),
    ]);
    return { users, groups };
  }
}
