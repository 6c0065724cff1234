/**
 * The SCIM resource store in Redis: our view of what the SCIM client provisioned, answered back
 * to it at once (the IONOS side follows through the sync queue).
 *
 * Keys (built in src/store/keys.ts, `ScimKeys`), under `<prefix>:scim:`
 * - `res:<User|Group>:<id>`  hash {v: version, doc: JSON}
 * - `idx:<User|Group>`       sorted set, score = creation sequence (`seq:<User|Group>`): list
 *                            order is creation order, stable across pages
 * - `uniq:<User|Group>`      hash lower-cased userName / displayName -> id
 * - `ix:<User|Group>`        sorted set, the lookup index of externalId and emails.value (see
 *                            ./lookup_index.ts); `ixready:<User|Group>` says it is complete
 * - `pending`                hash event id -> SyncEvent JSON, written with the resource and
 *                            cleared once `ingestEvents` took it (see `ScimWriter`)
 */
import type { Redis } from "ioredis";
import type { SyncEvent } from "../events/event.ts";
import type { Attributes } from "./normalize.ts";
import type { ResourceTypeName } from "./schema.ts";
import { type ScimKeys, storeKeys } from "../store/keys.ts";
import { LuaScript } from "../store/lua_script.ts";
import { idOfMember, type IndexedEquality, indexMembers, indexRange } from "./lookup_index.ts";

const WRITE_SCRIPT = new LuaScript(
  await Deno.readTextFile(new URL("./scim_write.lua", import.meta.url)),
);

/** `meta` as stored; `location` is added when answering, from the request's base URL. */
export interface StoredMeta {
  resourceType: ResourceTypeName;
  created: string;
  lastModified: string;
  version: string;
}

/** A stored resource: `schemas`, `id`, the attributes and `meta`. */
export type StoredDoc = Attributes & { id: string; schemas: string[]; meta: StoredMeta };

export interface StoredResource {
  doc: StoredDoc;
  /** Counter behind `meta.version`; the compare-and-set token of `commit`. */
  version: number;
}

/** One resource change of a `commit`. */
export interface ResourceWrite {
  type: ResourceTypeName;
  id: string;
  /** The version read before the change; 0 = the resource must not exist yet. */
  expect: number;
  /** The new document; absent deletes the resource. */
  doc?: StoredDoc;
  /** The uniqueness key before / after the change (lower-cased userName or displayName). */
  oldUnique?: string;
  newUnique?: string;
  /**
   * The document read at version `expect`; required when `expect` > 0, so the lookup index
   * loses the old values. The version check makes sure it is still the stored one.
   */
  before?: StoredDoc;
}

export type CommitResult =
  | { ok: true }
  | { ok: false; reason: "conflict" | "uniqueness"; type: ResourceTypeName; id: string };

/** The version counter inside an etag: `W/"7"` -> 7. */
export const etagOf = (version: number) => `W/"${version}"`;

/** Lower-cases a uniqueness key: SCIM compares userName and displayName case-insensitively. */
export const uniqueKey = (name: string) => name.trim().toLowerCase();

/**
 * @example
 * const store = new ScimStore(redis);
 * const user = await store.get("User", id);
 */
export class ScimStore {
  readonly #redis: Redis;
  readonly #keys: ScimKeys;
  readonly #indexReady = new Set<ResourceTypeName>();

  /** @param options.prefix the sync key prefix. @default "sync" */
  constructor(redis: Redis, options: { prefix?: string } = {}) {
    this.#redis = redis;
    this.#keys = storeKeys(options.prefix ?? "sync").scim;
  }

  #res(type: ResourceTypeName, id: string): string {
    return this.#keys.resource(type, id);
  }

  async get(type: ResourceTypeName, id: string): Promise<StoredResource | undefined> {
    const [v, doc] = await this.#redis.hmget(this.#res(type, id), "v", "doc");
    return v && doc ? { version: Number(v), doc: JSON.parse(doc) as StoredDoc } : undefined;
  }

  /** Several resources in one round trip, in the order of `ids`; missing ones are skipped. */
  async getMany(type: ResourceTypeName, ids: string[]): Promise<StoredResource[]> {
    const out: StoredResource[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const pipeline = this.#redis.pipeline();
      for (const id of ids.slice(i, i + 500)) pipeline.hmget(this.#res(type, id), "v", "doc");
      for (const [error, value] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        const [v, doc] = value as [string | null, string | null];
        if (v && doc) out.push({ version: Number(v), doc: JSON.parse(doc) as StoredDoc });
      }
    }
    return out;
  }

  /** Every id of a type, oldest first: the stable order of list answers. */
  async ids(type: ResourceTypeName): Promise<string[]> {
    return await this.#redis.zrange(this.#keys.index(type), "0", "-1");
  }

  /** `count` ids of a type from `offset` in list order, and how many there are in all. */
  async idPage(
    type: ResourceTypeName,
    offset: number,
    count: number,
  ): Promise<{ total: number; ids: string[] }> {
    const key = this.#keys.index(type);
    const [total, ids] = await Promise.all([
      this.#redis.zcard(key),
      count === 0 ? [] : this.#redis.zrange(key, String(offset), String(offset + count - 1)),
    ]);
    return { total, ids };
  }

  /** The id holding a userName / displayName, compared case-insensitively. */
  async idByUnique(type: ResourceTypeName, name: string): Promise<string | undefined> {
    return (await this.#redis.hget(this.#keys.unique(type), uniqueKey(name))) ?? undefined;
  }

  /** Which of `ids` exist as resources of `type`. */
  async existing(type: ResourceTypeName, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.exists(this.#res(type, id));
    const results = (await pipeline.exec()) ?? [];
    return new Set(ids.filter((_, i) => results[i]?.[1] === 1));
  }

  /**
   * Applies resource writes and journals their events in one atomic step; refuses all of it if
   * any resource changed since it was read or a userName / displayName is taken.
   */
  async commit(writes: ResourceWrite[], events: SyncEvent[]): Promise<CommitResult> {
    const payload = {
      writes: writes.map((w) => ({
        type: w.type,
        id: w.id,
        expect: w.expect,
        ...indexChange(w),
        ...(w.doc ? { doc: JSON.stringify(w.doc), version: String(w.expect + 1) } : {}),
        oldUnique: w.oldUnique,
        newUnique: w.newUnique,
      })),
      events: events.map((e) => [e.id, JSON.stringify(e)]),
    };
    // Every key the script touches, in the order it reads them (see scim_write.lua).
    const types = [...new Set(writes.map((w) => w.type))];
    const k = this.#keys;
    const keys = [
      k.pending,
      ...types.flatMap((t) => [k.unique(t), k.lookup(t), k.index(t), k.seq(t)]),
      ...writes.map((w) => k.resource(w.type, w.id)),
    ];
    const raw = await WRITE_SCRIPT.run(this.#redis, keys, [
      JSON.stringify({ types, ...payload }),
    ]);
    return JSON.parse(raw as string) as CommitResult;
  }

  /** Ids whose indexed attribute holds the value, in list order (creation order). */
  async idsByIndex(type: ResourceTypeName, eq: IndexedEquality): Promise<string[]> {
    await this.#ensureIndex(type);
    const [min, max] = indexRange(eq);
    const ids = (await this.#redis.zrangebylex(this.#keys.lookup(type), min, max))
      .map(idOfMember);
    if (ids.length < 2) return ids;
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.zscore(this.#keys.index(type), id);
    const scores = ((await pipeline.exec()) ?? []).map(([, v]) => Number(v ?? Infinity));
    return ids.map((id, i) => ({ id, s: scores[i]! })).sort((a, b) => a.s - b.s).map((x) => x.id);
  }

  /**
   * Every resource of a type in list order, `pageSize` at a time: memory holds one page, not
   * the store. A cursor on the creation sequence keeps the walk stable while others write.
   */
  async *scan(type: ResourceTypeName, pageSize = 100): AsyncGenerator<StoredResource[]> {
    const key = this.#keys.index(type);
    for (let after = "-inf";;) {
      const flat = await this.#redis.zrangebyscore(
        key,
        after,
        "+inf",
        "WITHSCORES",
        "LIMIT",
        0,
        pageSize,
      );
      if (flat.length === 0) return;
      const ids = flat.filter((_, i) => i % 2 === 0);
      after = `(${flat.at(-1)}`;
      yield await this.getMany(type, ids);
      if (ids.length < pageSize) return;
    }
  }

  /**
   * Builds the lookup index once for resources stored before it existed. Writes racing the
   * build can leave a stale member, never miss one: lookups re-check every hit with the filter.
   */
  async #ensureIndex(type: ResourceTypeName): Promise<void> {
    if (this.#indexReady.has(type)) return;
    const ready = this.#keys.lookupReady(type);
    if (!(await this.#redis.exists(ready))) {
      for await (const page of this.scan(type)) {
        const members = page.flatMap((r) => indexMembers(type, r.doc));
        if (members.length) {
          await this.#redis.zadd(
            this.#keys.lookup(type),
            ...members.flatMap((m) => [0, m]),
          );
        }
      }
      await this.#redis.set(ready, "1");
    }
    this.#indexReady.add(type);
  }

  /** Journaled events whose ingest did not finish (the process died, or Redis went away). */
  async pendingEvents(): Promise<SyncEvent[]> {
    const all = await this.#redis.hvals(this.#keys.pending);
    return all.map((e) => JSON.parse(e) as SyncEvent)
      .sort((a, b) => (a.time ?? "").localeCompare(b.time ?? ""));
  }

  async clearPending(eventIds: string[]): Promise<void> {
    if (eventIds.length) await this.#redis.hdel(this.#keys.pending, ...eventIds);
  }
}

/**
 * Index members a write removes and adds.
 * @throws {TypeError} for an update or delete without `before` (the index would go stale).
 */
function indexChange(
  w: ResourceWrite,
): { ixDel: string[] | undefined; ixAdd: string[] | undefined } {
  if (w.expect > 0 && !w.before) {
    throw new TypeError(`Cannot commit ${w.type} ${w.id}: 'before' is required for an update`);
  }
  const old = w.before ? indexMembers(w.type, w.before) : [];
  const now = w.doc ? indexMembers(w.type, w.doc) : [];
  const ixDel = old.filter((m) => !now.includes(m));
  const ixAdd = now.filter((m) => !old.includes(m));
  // Empty lists stay out of the script's JSON, as before (it reads both as none).
  return { ixDel: ixDel.length ? ixDel : undefined, ixAdd: ixAdd.length ? ixAdd : undefined };
}
