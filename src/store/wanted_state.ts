/**
 * The identity provider's wanted state of users, groups and memberships, kept in Redis.
 *
 * Intake writes it (`applyEvents`), workers read it when a sync job runs, so a job always syncs
 * the latest state no matter how many events came in while it waited.
 */
import type { Redis } from "ioredis";
import { definedProps } from "../defined_props.ts";
import { type ScimGroupData, type SyncEvent, userEmail } from "../events/event.ts";
import type { ScriptCall, TransactionScript } from "../queue/atomic_enqueue.ts";
import { applyKeys, type ReachedIds } from "./apply_keys.ts";
import { type StoreKeys, storeKeys } from "./keys.ts";
import { LuaScript } from "./lua_script.ts";
import { type ReplicaAcks, waitForReplicas } from "./replica_acks.ts";

/** What the identity provider wants for one user. */
export interface WantedUser {
  id: string;
  email?: string;
  userName?: string;
  externalId?: string;
  firstName?: string;
  lastName?: string;
  displayName?: string;
  active: boolean;
  deleted: boolean;
  /** Time (ms) of the change that set this state. */
  t: number;
  eventId: string;
}

/** What the identity provider wants for one group. */
export interface WantedGroup {
  id: string;
  displayName: string;
  externalId?: string;
  deleted: boolean;
  t: number;
  eventId: string;
}

export type EntityKind = "user" | "group";
/** `"user:<idp id>"` or `"group:<idp id>"`. */
export type EntityKey = `${EntityKind}:${string}`;

export function entityKey(kind: EntityKind, id: string): EntityKey {
  return `${kind}:${id}`;
}
export function parseEntityKey(key: string): { kind: EntityKind; id: string } {
  const i = key.indexOf(":");
  const kind = key.slice(0, i);
  if (kind !== "user" && kind !== "group") throw new TypeError(`Not an entity key: ${key}`);
  return { kind, id: key.slice(i + 1) };
}

export interface ApplyResult {
  accepted: number;
  /** Events whose `time` was too far ahead of Redis' clock and was applied at that clock. */
  clamped: number;
  /** Redis time (ms) at which the entities were put in the outbox; see `clearOutbox`. */
  stamp: number;
  duplicates: number;
  /** Entities whose wanted state changed and need a sync job. */
  entities: EntityKey[];
  /** Per touched group: its name before and after, and users whose membership flipped. */
  groups: Record<string, { name: string | false; oldName: string | false; changed: string[] }>;
}

export interface ApplyOptions {
  /** An id for the whole delivery (Standard Webhooks `webhook-id`); a repeat is all duplicates. */
  deliveryId?: string;
  /** Receive time (ms); orders events that carry no `time`. @default Date.now() */
  now?: number;
}

export interface WantedStateStoreOptions {
  /** @default "sync" */
  prefix?: string;
  /** How long an event id is remembered for de-duplication. @default 7 days */
  dedupeTtlSeconds?: number;
  /**
   * How far an event's `time` may be ahead of Redis' clock; a later time is applied at Redis'
   * clock, so nothing can pin state from the future. @default 300_000 (5 minutes)
   */
  maxClockSkewMs?: number;
  /**
   * The mapping's `administrators` group names (globs): a membership that flips in such a group
   * also enqueues its user, whose administrator flag it changes. @default []
   */
  administrators?: readonly string[];
  /**
   * Replicas that must have the events before `applyEvents` resolves (Redis WAIT), so a 2xx
   * survives a failover. @default { replicas: 0 } (the primary having them is enough)
   */
  replicaAcks?: ReplicaAcks;
}

/**
 * A glob of the mapping (`*`, `?`, case-insensitive, see `globMatch`) as an anchored Lua
 * pattern over the lower-cased name. Lua lower-cases ASCII only, as group names mostly are.
 */
export function globToLuaPattern(glob: string): string {
  const escaped = glob.toLowerCase().replace(/[\^$()%.[\]+\-]/g, "%$&");
  return `^${escaped.replace(/\*/g, ".*").replace(/\?/g, ".")}$`;
}

const APPLY_LUA = await Deno.readTextFile(new URL("./apply_events.lua", import.meta.url));
const APPLY_SCRIPT = new LuaScript(APPLY_LUA);

/**
 * Calls of the apply script per batch before giving up: each call after the first only comes
 * from relations stored concurrently with the one before (see `applyEvents`).
 */
const MAX_APPLY_CALLS = 5;

const CLEAR_OUTBOX_LUA = `
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= tonumber(ARGV[1]) then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return 0`;
const CLEAR_OUTBOX_SCRIPT = new LuaScript(CLEAR_OUTBOX_LUA);

/** The mark script for `counters` job counters (the key count is fixed per defined script). */
function markAddsScript(counters: number): TransactionScript {
  return {
    name: `syncOutboxMarkAllAdds${counters}`,
    numberOfKeys: 1 + counters,
    // KEYS[1] the mark, KEYS[2..] the job counters of every queue the adds go to.
    lua: MARK_ADDS_LUA,
  };
}

const MARK_ADDS_LUA = `local sum = 0
for i = 2, #KEYS do sum = sum + (tonumber(redis.call('GET', KEYS[i]) or '0') or 0) end
redis.call('SET', KEYS[1], sum)
return 1`;

/**
 * After the job adds: clears the entities from the outbox (KEYS[1]) only if the job counters
 * (KEYS[3..], IONOS's and each other target's queue) together moved by exactly ARGV[2] since the
 * mark (KEYS[2]), that is if every add ran. Redis does not roll a transaction back, so an add
 * that failed (OOM, NOSCRIPT) leaves its entity to the outbox sweep, which enqueues it for every
 * target again (adds are de-duplicated). Entries re-added after ARGV[1] (a newer change) stay
 * for their own intake. Returns the number cleared, or -1 when the adds did not all run.
 */
function clearAfterAddsScript(counters: number): TransactionScript {
  return {
    name: `syncOutboxClearAfterAllAdds${counters}`,
    numberOfKeys: 2 + counters,
    lua: CLEAR_AFTER_ADDS_LUA,
  };
}

const CLEAR_AFTER_ADDS_LUA = `local mark = redis.call('GET', KEYS[2])
redis.call('DEL', KEYS[2])
local before, counter = tonumber(mark or ''), 0
for i = 3, #KEYS do
  local value = tonumber(redis.call('GET', KEYS[i]) or '0')
  if not value then return -1 end
  counter = counter + value
end
if not before or counter ~= before + tonumber(ARGV[2]) then return -1 end
local stamp, cleared = tonumber(ARGV[1]), 0
for i = 3, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= stamp then
    redis.call('ZREM', KEYS[1], ARGV[i])
    cleared = cleared + 1
  end
end
return cleared`;

/**
 * This module's Lua by name, as written (`luaSource` may wrap it before it is sent): for
 * bench/redis_scripts.ts, which names the scripts in Redis' SLOWLOG by their SHA-1.
 */
export const STORE_LUA: Readonly<Record<string, string>> = {
  "store apply": APPLY_LUA,
  "outbox mark adds": MARK_ADDS_LUA,
  "outbox clear after adds": CLEAR_AFTER_ADDS_LUA,
  "outbox clear": CLEAR_OUTBOX_LUA,
};

/** Events in the compact shape the Lua script reads. */
export type NormalizedEvent =
  | { e: string; t: number; k: "user"; op: "upsert"; id: string; v: Record<string, unknown> }
  | { e: string; t: number; k: "user" | "group"; op: "delete"; id: string }
  | {
    e: string;
    t: number;
    k: "group";
    op: "upsert";
    id: string;
    v: Record<string, unknown>;
    members?: string[];
  }
  | { e: string; t: number; k: "members"; op: "add" | "remove"; id: string; members: string[] };

/** Turns a validated event into the facts the store keeps; IdP-specific fields are dropped. */
export function normalizeEvent(event: SyncEvent, now: number): NormalizedEvent {
  const t = event.time ? Date.parse(event.time) : now;
  const e = event.id;
  switch (event.type) {
    case "user.created":
    case "user.updated":
    case "user.deactivated":
    case "user.reactivated": {
      const u = event.data;
      const active = event.type === "user.deactivated"
        ? false
        : event.type === "user.reactivated"
        ? true
        : u.active;
      const v: Record<string, unknown> = definedProps({
        email: userEmail(u),
        userName: u.userName,
        externalId: u.externalId,
        firstName: u.name?.givenName ?? undefined,
        lastName: u.name?.familyName ?? undefined,
        displayName: u.displayName,
        active,
      });
      return { e, t, k: "user", op: "upsert", id: u.id, v };
    }
    case "user.deleted":
      return { e, t, k: "user", op: "delete", id: event.data.id };
    case "group.created":
    case "group.updated": {
      const g: ScimGroupData = event.data;
      const v = definedProps({ displayName: g.displayName, externalId: g.externalId });
      const members = g.members?.map((m) => m.value);
      return members
        ? { e, t, k: "group", op: "upsert", id: g.id, v, members }
        : { e, t, k: "group", op: "upsert", id: g.id, v };
    }
    case "group.deleted":
      return { e, t, k: "group", op: "delete", id: event.data.id };
    case "group.members.added":
    case "group.members.removed":
      return {
        e,
        t,
        k: "members",
        op: event.type === "group.members.added" ? "add" : "remove",
        id: event.data.groupId,
        members: event.data.members.map((m) => m.value),
      };
  }
}

const asArray = <T>(v: T[] | Record<string, never>): T[] => Array.isArray(v) ? v : [];

/** The script's JSON (cjson writes an empty array as `{}`); `need` when it wrote nothing. */
interface RawApplyResult {
  accepted: number;
  clamped: number;
  stamp: number;
  duplicates: number;
  entities: EntityKey[] | Record<string, never>;
  groups: ApplyResult["groups"] | [];
  need?: { g: string[] | Record<string, never>; m: string[] | Record<string, never> };
}

/**
 * Reads and writes the wanted state.
 *
 * @example
 * const store = new WantedStateStore(redis);
 * const r = await store.applyEvents([event]);
 * // r.entities: ["user:00u1"] -> enqueue a sync job for each
 */
export class WantedStateStore {
  readonly keys: StoreKeys;
  readonly #redis: Redis;
  readonly #ttl: number;
  readonly #maxSkewMs: number;
  readonly #adminPatterns: string;
  readonly #replicaAcks: ReplicaAcks;

  constructor(redis: Redis, options: WantedStateStoreOptions = {}) {
    const { prefix = "sync", dedupeTtlSeconds = 7 * 24 * 3600, maxClockSkewMs = 300_000 } = options;
    if (!(maxClockSkewMs >= 0)) {
      throw new RangeError(
        `Cannot store events as 'maxClockSkewMs' must be >= 0: current value is ${maxClockSkewMs}`,
      );
    }
    this.#redis = redis;
    this.#ttl = dedupeTtlSeconds;
    this.#maxSkewMs = maxClockSkewMs;
    this.#adminPatterns = JSON.stringify((options.administrators ?? []).map(globToLuaPattern));
    this.keys = storeKeys(prefix);
    this.#replicaAcks = options.replicaAcks ?? { replicas: 0, timeoutMs: 0 };
  }

  /**
   * Applies events atomically: de-duplicates them, keeps the newest state per entity and records
   * the touched entities in an outbox, all in one Lua call, so a 2xx can follow right after.
   * With `replicaAcks`, resolves once that many replicas have them too.
   *
   * @throws {ReplicaAckError} when too few replicas confirm in time (the events may be stored)
   */
  async applyEvents(events: SyncEvent[], options: ApplyOptions = {}): Promise<ApplyResult> {
    const now = options.now ?? Date.now();
    const normalized = events.map((e) => normalizeEvent(e, now));
    const deliveryId = options.deliveryId ?? "";
    const json = JSON.stringify(normalized);
    // The script gets every key in KEYS, built from the events. A delete (or a full member
    // list) also reaches the ids in its stored relations, which only Redis knows: the script
    // then writes nothing and names them, and the next call declares them too. The first call
    // suffices unless a batch removes stored relations.
    let reached: ReachedIds = { groups: [], users: [] };
    let parsed: RawApplyResult;
    for (let call = 1;; call++) {
      const { keys, ids } = applyKeys(this.keys, normalized, deliveryId, reached);
      const raw = await APPLY_SCRIPT.run(this.#redis, keys, [
        this.#ttl,
        deliveryId,
        now,
        json,
        this.#maxSkewMs,
        this.#adminPatterns,
        ids,
      ]) as string;
      parsed = JSON.parse(raw) as RawApplyResult;
      if (!parsed.need) break;
      if (call === MAX_APPLY_CALLS) {
        throw new Error(
          `Cannot apply events as their stored relations kept changing over ${call} calls`,
        );
      }
      reached = {
        groups: [...reached.groups, ...asArray(parsed.need.g)],
        users: [...reached.users, ...asArray(parsed.need.m)],
      };
    }
    await waitForReplicas(this.#redis, this.#replicaAcks);
    const groups: ApplyResult["groups"] = {};
    for (const [gid, g] of Object.entries(parsed.groups ?? {})) {
      groups[gid] = { ...g, changed: asArray(g.changed) };
    }
    return { ...parsed, entities: asArray(parsed.entities), groups };
  }

  async getUser(id: string): Promise<WantedUser | undefined> {
    const raw = await this.#redis.get(this.keys.user(id));
    return raw ? JSON.parse(raw) as WantedUser : undefined;
  }

  async getGroup(id: string): Promise<WantedGroup | undefined> {
    const raw = await this.#redis.get(this.keys.group(id));
    return raw ? JSON.parse(raw) as WantedGroup : undefined;
  }

  /** Several users in one round trip; unknown ids are left out. */
  async getUsers(ids: string[]): Promise<Map<string, WantedUser>> {
    if (ids.length === 0) return new Map();
    const raw = await this.#redis.mget(ids.map((id) => this.keys.user(id)));
    const users = new Map<string, WantedUser>();
    raw.forEach((r, i) => r && users.set(ids[i]!, JSON.parse(r) as WantedUser));
    return users;
  }

  /** Several groups in one round trip; unknown ids are left out. */
  async getGroups(ids: string[]): Promise<Map<string, WantedGroup>> {
    if (ids.length === 0) return new Map();
    const raw = await this.#redis.mget(ids.map((id) => this.keys.group(id)));
    const groups = new Map<string, WantedGroup>();
    raw.forEach((r, i) => r && groups.set(ids[i]!, JSON.parse(r) as WantedGroup));
    return groups;
  }

  /** IdP user ids that are members of the group now. */
  async getMembers(groupId: string): Promise<string[]> {
    const all = await this.#redis.hgetall(this.keys.members(groupId));
    return Object.entries(all).filter(([, v]) => v.startsWith("1:")).map(([uid]) => uid);
  }

  /** IdP user ids with any membership record (present or removed) in the group. */
  async getMemberHistory(groupId: string): Promise<string[]> {
    return await this.#redis.hkeys(this.keys.members(groupId));
  }

  /** IdP group ids the user is a member of now. */
  async getUserGroups(userId: string): Promise<string[]> {
    return await this.#redis.smembers(this.keys.userGroups(userId));
  }

  async listUserIds(): Promise<string[]> {
    return await this.#redis.smembers(this.keys.users);
  }

  async listGroupIds(): Promise<string[]> {
    return await this.#redis.smembers(this.keys.groups);
  }

  /** Outbox entries older than `olderThanMs`: entities whose job may never have been enqueued. */
  async pendingOutbox(
    olderThanMs: number,
    limit = 1000,
  ): Promise<{ entities: EntityKey[]; stamp: number }> {
    const [sec, usec] = await this.#redis.time();
    const stamp = Number(sec) * 1000 + Math.floor(Number(usec) / 1000) - olderThanMs;
    const entities = await this.#redis.zrangebyscore(
      this.keys.outbox,
      "-inf",
      stamp,
      "LIMIT",
      0,
      limit,
    ) as EntityKey[];
    return { entities, stamp };
  }

  /**
   * Removes outbox entries once their jobs are enqueued, unless a newer change put them there
   * again after `stamp` (that change's own intake will clear it).
   */
  async clearOutbox(entities: EntityKey[], stamp: number): Promise<void> {
    if (entities.length === 0) return;
    await CLEAR_OUTBOX_SCRIPT.run(this.#redis, [this.keys.outbox], [stamp, ...entities]);
  }

  /**
   * The outbox clean-up as two script calls to run in the enqueue's transaction, around the
   * adds of the entities' jobs (`enqueueSyncAtomically`): `before` notes BullMQ's job counters,
   * `after` clears the entities (as `clearOutbox`) only if the counters then moved by exactly one
   * per entity and queue, so an entity whose add did not run, on any target, stays for the sweep.
   *
   * @param jobCounters the job counter key of every queue the adds go to (`jobCounterKeys`)
   */
  outboxClearCalls(
    entities: readonly EntityKey[],
    stamp: number,
    jobCounters: readonly string[],
  ): { before: ScriptCall; after: ScriptCall } {
    return {
      before: {
        script: markAddsScript(jobCounters.length),
        keys: [this.keys.outboxAddMark, ...jobCounters],
        args: [],
      },
      after: {
        script: clearAfterAddsScript(jobCounters.length),
        keys: [this.keys.outbox, this.keys.outboxAddMark, ...jobCounters],
        args: [stamp, entities.length * jobCounters.length, ...entities],
      },
    };
  }
}
