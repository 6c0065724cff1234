/**
 * The SCIM resource store in Redis: our view of what the SCIM client provisioned, answered back
 * to it at once (the IONOS side follows through the sync queue).
 *
 * Keys, under `<prefix>:scim:`
 * - `res:<User|Group>:<id>`  hash {v: version, doc: JSON}
 * - `idx:<User|Group>`       sorted set, score = creation sequence (`seq:<User|Group>`): list
 *                            order is creation order, stable across pages
 * - `uniq:<User|Group>`      hash lower-cased userName / displayName -> id
 * - `pending`                hash event id -> SyncEvent JSON, written with the resource and
 *                            cleared once `ingestEvents` took it (see `ScimWriter`)
 */
import type { Redis } from "ioredis";
import type { SyncEvent } from "../events/event.ts";
import type { Attributes } from "./normalize.ts";
import type { ResourceTypeName } from "./schema.ts";
import { LuaScript } from "../store/lua_script.ts";

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
  readonly #prefix: string;

  /** @param options.prefix the sync key prefix. @default "sync" */
  constructor(redis: Redis, options: { prefix?: string } = {}) {
    this.#redis = redis;
    this.#prefix = `${options.prefix ?? "sync"}:scim`;
  }

  #res(type: ResourceTypeName, id: string): string {
    return `${this.#prefix}:res:${type}:${id}`;
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
    return await this.#redis.zrange(`${this.#prefix}:idx:${type}`, 0, -1);
  }

  /** `count` ids of a type from `offset` in list order, and how many there are in all. */
  async idPage(
    type: ResourceTypeName,
    offset: number,
    count: number,
  ): Promise<{ total: number; ids: string[] }> {
    const key = `${this.#prefix}:idx:${type}`;
    const [total, ids] = await Promise.all([
      this.#redis.zcard(key),
      count === 0 ? [] : this.#redis.zrange(key, offset, offset + count - 1),
    ]);
    return { total, ids };
  }

  /** The id holding a userName / displayName, compared case-insensitively. */
  async idByUnique(type: ResourceTypeName, name: string): Promise<string | undefined> {
    return (await this.#redis.hget(`${this.#prefix}:uniq:${type}`, uniqueKey(name))) ?? undefined;
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
        ...(w.doc ? { doc: JSON.stringify(w.doc), version: String(w.expect + 1) } : {}),
        ...(w.oldUnique !== undefined ? { oldUnique: w.oldUnique } : {}),
        ...(w.newUnique !== undefined ? { newUnique: w.newUnique } : {}),
      })),
      events: events.map((e) => [e.id, JSON.stringify(e)]),
    };
    const raw = await WRITE_SCRIPT.run(this.#redis, [], [this.#prefix, JSON.stringify(payload)]);
    return JSON.parse(raw as string) as CommitResult;
  }

  /** Journaled events whose ingest did not finish (the process died, or Redis went away). */
  async pendingEvents(): Promise<SyncEvent[]> {
    const all = await this.#redis.hvals(`${this.#prefix}:pending`);
    return all.map((e) => JSON.parse(e) as SyncEvent)
      .sort((a, b) => (a.time ?? "").localeCompare(b.time ?? ""));
  }

  async clearPending(eventIds: string[]): Promise<void> {
    if (eventIds.length) await this.#redis.hdel(`${this.#prefix}:pending`, ...eventIds);
  }
}
