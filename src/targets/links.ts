/**
 * Each target's twin of an IdP user or group: which target object the service manages for it
 * and how it came to (created or adopted), plus the last result for operators. One hash per
 * (target, entity), and one hash per (target, kind) from target id back to IdP id.
 *
 * Keys (under REDIS_PREFIX, beside the IONOS twins): `<prefix>:target:<target>:<kind>:<idp id>`
 * and `<prefix>:target:<target>:managed:<kind>`, built by `StoreKeys.target` (src/store/keys.ts).
 */
import type { Redis } from "ioredis";
import { storeKeys, type TargetLinkKeys } from "../store/keys.ts";
import type { EntityKind } from "../store/wanted_state.ts";
import { LuaScript } from "../store/lua_script.ts";
import { TargetError } from "./errors.ts";
import type { TargetName } from "./target.ts";
import { IDLE_GUARD, whileHoldingLease } from "./write_lease.ts";

/**
 * KEYS: the IdP entity's link, the managed index. ARGV: target id, IdP id, origin. Links unless
 * another IdP entity holds the target id; returns that holder, or nil when linked.
 */
const LINK_SCRIPT = new LuaScript(`
local holder = redis.call('HGET', KEYS[2], ARGV[1])
if holder and holder ~= ARGV[2] then return holder end
redis.call('HSET', KEYS[1], 'targetId', ARGV[1], 'origin', ARGV[3])
redis.call('HDEL', KEYS[1], 'creating')
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return false
`);

/**
 * KEYS: the IdP entity's link, the managed index. ARGV: target id, IdP id. Forgets the link to
 * that target id: the link's fields only while they still name it, the index entry only while it
 * is this entity's.
 */
const UNLINK_SCRIPT = new LuaScript(`
if redis.call('HGET', KEYS[1], 'targetId') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'targetId', 'origin')
end
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
return false
`);

/**
 * KEYS: the object's write lease, the holder's link, the managed index. ARGV: target id, holder
 * id. UNLINK_SCRIPT's hand-over of a target object, refused (0) while a job writes to it
 * (`IDLE_GUARD`, the same rule as IONOS' hand-over: src/targets/write_lease.ts).
 */
const HAND_OVER_SCRIPT = new LuaScript(`${IDLE_GUARD}
if redis.call('HGET', KEYS[2], 'targetId') == ARGV[1] then
  redis.call('HDEL', KEYS[2], 'targetId', 'origin')
end
if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[3], ARGV[1]) end
return 1
`);

/** Another IdP entity took the target object between this job's look-up and its link. */
export class TargetClaimedError extends TargetError {
  override name = "TargetClaimedError";
  readonly holder: string;

  constructor(target: TargetName, kind: EntityKind, targetId: string, holder: string) {
    super(target, `${target} ${kind} ${targetId} was taken by IdP ${kind} ${holder} meanwhile`, {
      retryable: true,
    });
    this.holder = holder;
  }
}

/** One twin record. */
export interface TargetLink {
  targetId?: string;
  origin?: "created" | "adopted";
  /** `ok`, `conflict`, `failed`, `pending` (Cloudflare invitation not accepted yet). */
  state?: string;
  result?: string;
  lastError?: string;
  lastSyncAt?: string;
  /**
   * Set just before the sync creates the target object, to its email (users, normalized) or
   * name (groups); cleared once the object is linked or the create was refused. A retry that
   * finds an object of that email or name without a link knows it is the sync's own create
   * whose answer was lost (a 5xx after the write, a killed worker), not somebody else's.
   */
  creating?: string;
}

/**
 * A twin as reconcile reads it: the target object and how the sync came to manage it (both or
 * neither), and the `creating` mark of a create whose answer may have been lost.
 */
export type LinkView = Pick<TargetLink, "targetId" | "origin" | "creating">;

/** Reads and writes one target's links. */
export class TargetLinks {
  readonly target: TargetName;
  readonly #redis: Redis;
  readonly #keys: TargetLinkKeys;

  constructor(redis: Redis, target: TargetName, options: { prefix?: string } = {}) {
    this.target = target;
    this.#redis = redis;
    this.#keys = storeKeys(options.prefix ?? "sync").target(target);
  }

  /** The twin record of one IdP entity; `{}` when it was never synced to this target. */
  async get(kind: EntityKind, idpId: string): Promise<TargetLink> {
    return await this.#redis.hgetall(this.#keys.link(kind, idpId)) as TargetLink;
  }

  /** Several at once: IdP id -> target id, for the linked ones. */
  async targetIds(kind: EntityKind, idpIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (idpIds.length === 0) return out;
    const pipe = this.#redis.pipeline();
    for (const id of idpIds) pipe.hget(this.#keys.link(kind, id), "targetId");
    const answers = await pipe.exec();
    answers?.forEach(([, v], i) => typeof v === "string" && v && out.set(idpIds[i]!, v));
    return out;
  }

  /**
   * Several twins at once, pipelined: IdP id -> target id and origin, and the `creating` mark,
   * for the linked or marked ones (reconcile reads every wanted entity's twin this way, and
   * looks under a mark as the workers do).
   */
  async twins(kind: EntityKind, idpIds: readonly string[]): Promise<Map<string, LinkView>> {
    const out = new Map<string, LinkView>();
    for (let i = 0; i < idpIds.length; i += 500) {
      const chunk = idpIds.slice(i, i + 500);
      const pipe = this.#redis.pipeline();
      for (const id of chunk) {
        pipe.hmget(this.#keys.link(kind, id), "targetId", "origin", "creating");
      }
      const answers = await pipe.exec();
      answers?.forEach(([, v], j) => {
        const [targetId, origin, creating] = (v ?? []) as (string | null)[];
        const view: LinkView = {};
        if (targetId && (origin === "created" || origin === "adopted")) {
          view.targetId = targetId;
          view.origin = origin;
        }
        if (creating) view.creating = creating;
        if (view.targetId || view.creating) out.set(chunk[j]!, view);
      });
    }
    return out;
  }

  /** Everything the service manages of this kind: target id -> IdP id. */
  async managed(kind: EntityKind): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.#redis.hgetall(this.#keys.managed(kind))));
  }

  /** Target ids of everything the service manages of this kind. */
  async managedTargetIds(kind: EntityKind): Promise<Set<string>> {
    return new Set(await this.#redis.hkeys(this.#keys.managed(kind)));
  }

  /** Records the result of a sync; a field set to `undefined` is left as it was. */
  async record(kind: EntityKind, idpId: string, fields: Omit<TargetLink, "targetId" | "origin">) {
    const set = Object.entries(fields).filter(([, v]) => v !== undefined);
    const clearError = fields.lastError === undefined && fields.state === "ok";
    const m = this.#redis.multi();
    if (set.length) m.hset(this.#keys.link(kind, idpId), Object.fromEntries(set));
    if (clearError) m.hdel(this.#keys.link(kind, idpId), "lastError");
    await m.exec();
  }

  /**
   * Links an IdP entity to the target object it now manages (and ends a `creating` mark), unless
   * another IdP entity holds that object: the check and the link are one script, so two jobs
   * that found the same account at once cannot both take it (model test, contabo seed 65: both
   * saw it free, both linked it).
   *
   * @throws {TargetClaimedError} when another IdP entity holds `targetId` (retried: the job then
   *   sees the holder and the ownership rules decide)
   */
  async link(kind: EntityKind, idpId: string, targetId: string, origin: "created" | "adopted") {
    const holder = await LINK_SCRIPT.run(
      this.#redis,
      [this.#keys.link(kind, idpId), this.#keys.managed(kind)],
      [targetId, idpId, origin],
    ) as string | null;
    if (holder !== null) throw new TargetClaimedError(this.target, kind, targetId, holder);
  }

  /** The IdP id whose link holds `targetId`, if any (the managed index). */
  async holderOf(kind: EntityKind, targetId: string): Promise<string | undefined> {
    return await this.#redis.hget(this.#keys.managed(kind), targetId) ?? undefined;
  }

  /** Marks a create about to be sent, labelled with the email or name it creates. */
  async markCreating(kind: EntityKind, idpId: string, label: string) {
    await this.#redis.hset(this.#keys.link(kind, idpId), "creating", label);
  }

  /** Ends a `creating` mark without a link: the create was refused, so nothing was made. */
  async clearCreating(kind: EntityKind, idpId: string) {
    await this.#redis.hdel(this.#keys.link(kind, idpId), "creating");
  }

  /**
   * Runs `create` under a `creating` mark labelled `label`. A refusal (a non-retryable error:
   * the target said no, so nothing was made) clears the mark; an unclear failure (5xx, 429,
   * no answer) keeps it for the retry to recognise the object.
   */
  async creating<T>(kind: EntityKind, idpId: string, label: string, create: () => Promise<T>) {
    await this.markCreating(kind, idpId, label);
    try {
      return await create();
    } catch (error) {
      const unclear = (error as { retryable?: unknown }).retryable !== false;
      if (!unclear) await this.clearCreating(kind, idpId);
      throw error;
    }
  }

  /**
   * Forgets the link to `targetId` (the target object was deleted or released); without one,
   * whatever the link names. What another IdP entity holds now is left alone: a job that read
   * its link before the object passed on must not drop the new holder's hold on it, nor a link
   * that names another object now.
   */
  async unlink(kind: EntityKind, idpId: string, targetId: string | undefined) {
    if (!targetId) {
      await this.#redis.hdel(this.#keys.link(kind, idpId), "targetId", "origin");
      return;
    }
    await UNLINK_SCRIPT.run(
      this.#redis,
      [this.#keys.link(kind, idpId), this.#keys.managed(kind)],
      [targetId, idpId],
    );
  }

  /**
   * Runs `write` to `targetId` only while `idpId` holds it, under a lease that keeps it from
   * passing to another IdP entity meanwhile (`handOver()` refuses while it is held). A job reads
   * its link and its object, then writes: in between, the object may have been taken over (its
   * IdP user deleted, the person re-created under a new id). Written then, the old user's
   * disable would be left on the new owner, whose job had run already, or the old user's roles
   * and admin given to it. The check and the write cannot be one call to the cloud, hence the
   * lease: a take-over waits for a write under way, and a write after a take-over is not made.
   * The lease is renewed while the write runs (retries included), and lapses if the worker dies.
   * Why a lease: a re-check of the holder just before the write still leaves the time of the
   * call itself, and re-syncing the new owner after the old job wrote (a nudge) would leave a
   * wrong grant standing until that job ran; waiting for the deleted holder's job to end cannot
   * be read from the queue reliably. With the lease, and the new owner reading the account
   * again after the take-over, no write of the old job lands unseen by the new owner's plan.
   *
   * The lease is the one IONOS writes take (src/targets/write_lease.ts): one rule, one
   * implementation. It is shared, not exclusive: two writes of the SAME holder may run at once. The rule is about a
   * change of owner, which every write of the holder keeps off alike; two jobs of one IdP entity
   * run at once only when BullMQ re-runs a job it thinks stalled, and both then write what that
   * entity wants (as IONOS' user and group jobs already may).
   *
   * @returns `false`, without writing, when `idpId` no longer holds `targetId`
   */
  async whileHolding(
    kind: EntityKind,
    idpId: string,
    targetId: string,
    write: () => Promise<unknown>,
  ): Promise<boolean> {
    // Contabo's calls are done when they return: nothing to wait for after (no `landed`).
    const outcome = await whileHoldingLease(
      this.#redis,
      { index: this.#keys.managed(kind), lease: this.#keys.writing(kind, targetId) },
      targetId,
      idpId,
      async () => ({ value: await write() }),
    );
    return outcome.held;
  }

  /**
   * Drops `holder`'s hold on `targetId` so another IdP entity can take it over, as `unlink()`
   * does, unless a job is writing to it now (`whileHolding()`): then nothing is dropped.
   *
   * @returns whether the hold was dropped (or was not there)
   */
  async handOver(kind: EntityKind, holder: string, targetId: string): Promise<boolean> {
    const done = await HAND_OVER_SCRIPT.run(
      this.#redis,
      [this.#keys.writing(kind, targetId), this.#keys.link(kind, holder), this.#keys.managed(kind)],
      [targetId, holder],
    );
    return done === 1;
  }
}
