/**
 * The event log: every accepted event, only its mapped fields, in a Redis stream with bounded
 * retention (by age and by count; the retention sweeper trims by age when no event arrives). It answers "what came in for alice?" and feeds replay.
 *
 * Keys (prefix `sync` by default):
 * - `<prefix>:eventlog`                  stream, one entry per event; entry id = receive time
 * - `<prefix>:eventlog:id:<eventId>`     log id of an event, expires with the retention age
 * - `<prefix>:eventlog:entity:<entity>`  list of the entity's last 200 log ids, newest first
 */
import type { Redis } from "ioredis";
import type { SyncEvent } from "../../events/event.ts";
import type { IngestContext } from "../../intake/ingest.ts";
import type { ApplyResult, EntityKey } from "../../store/wanted_state.ts";
import { mappedFields } from "./mapped_fields.ts";
import { type StoreKeys, storeKeys } from "../../store/keys.ts";
import type { ScriptCall, TransactionScript } from "../../queue/atomic_enqueue.ts";
import { LuaScript } from "../../store/lua_script.ts";

/** One logged event, as operators and replay see it. */
export interface EventLogEntry {
  /** Stream id (`<ms>-<seq>`); its milliseconds are the receive time (Redis clock). */
  logId: string;
  eventId: string;
  source: string;
  type: string;
  /** The entity the event is about: `user:<id>` or `group:<id>` (membership events: the group). */
  entity: EntityKey;
  /** When the change happened: the event's `time`, else its receive time (orders replays). */
  time: string;
  /** True when `time` came from the event itself. */
  timeFromEvent: boolean;
  receivedAt: string;
  requestId?: string | undefined;
  /** Entities whose sync job this event caused (empty when it changed nothing, e.g. stale). */
  entities: EntityKey[];
  /** Sync job id per entity, where the job was still queued when the event was logged. */
  jobs: Record<string, string>;
  /** For source "replay": the event id that was replayed. */
  replayOf?: string | undefined;
  /** The event as received, with only the fields the sync maps (see mapped_fields.ts). */
  payload: SyncEvent;
}

/** Extra facts for `append` that the ingest hook does not carry. */
export interface AppendExtra {
  /** New event id -> replayed event id. */
  replayOf?: Map<string, string>;
  /** Entity -> sync job id. */
  jobs?: Record<string, string>;
  /**
   * Entity -> the key holding its sync job's id (`syncJobIdKey`), read when the entry is
   * written; for an append in the enqueue's transaction, where the ids are not known yet.
   */
  jobIdKey?: (entity: EntityKey) => string;
}

export interface EventLogOptions {
  /** @default "sync" */
  prefix?: string;
  /** Entries older than this are trimmed. @default 7 days */
  maxAgeMs?: number;
  /** At most about this many entries are kept (trimmed approximately). @default 100_000 */
  maxEntries?: number;
}

export interface EventLogQuery {
  /** Receive time from (inclusive), ms. */
  since?: number | undefined;
  /** Receive time until (inclusive), ms. */
  until?: number | undefined;
  entity?: string | undefined;
  source?: string | undefined;
  type?: string | undefined;
  /** @default 100 */
  limit?: number | undefined;
  /** Oldest first instead of newest first. @default false */
  ascending?: boolean | undefined;
}

const ENTITY_INDEX_LENGTH = 200;

/**
 * Appends entries: one stream entry per event with two fields, `d` (the entry's facts as one
 * JSON text, built by the caller) and `job` (the id of the job syncing its entity, when there
 * is one). Per entry ARGV holds the JSON and the job: "" for none, "?" to read it from the key
 * that holds the id of the job syncing the entity (BullMQ's de-duplication key: run in the
 * enqueue's transaction right after the adds, that is the id the add answered), else the id.
 * KEYS[1] the stream, then per entry its by-id key, its by-entity key and, with "?", that key.
 *
 * One JSON field instead of a field per fact, and no JSON decoding in Lua: the append was a
 * quarter of Redis' time for a 100-event request, as much as the apply (issue 9, SLOWLOG per
 * script); entries written before (a field per fact, `jobs` a JSON map) are still read.
 */
const APPEND_LUA = `
local stream, maxlen, minid = KEYS[1], ARGV[1], ARGV[2]
local ttl, skipKnown = tonumber(ARGV[3]), ARGV[4] == '1'
local ids = {}
local k = 2
for i = 1, (#ARGV - 4) / 2 do
  local data, job = ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  local byId, byEntity, jobKey = KEYS[k], KEYS[k + 1], nil
  k = k + 2
  if job == '?' then
    jobKey = KEYS[k]
    k = k + 1
  end
  if skipKnown and redis.call('EXISTS', byId) == 1 then
    ids[i] = ''
  else
    if jobKey then job = redis.call('GET', jobKey) or '' end
    local id
    if job == '' then
      id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'd', data)
    else
      id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'd', data, 'job', job)
    end
    redis.call('SET', byId, id, 'EX', ttl)
    -- Trimmed only once it is too long: one command less per event for most entities.
    if redis.call('LPUSH', byEntity, id) > ${ENTITY_INDEX_LENGTH} then
      redis.call('LTRIM', byEntity, 0, ${ENTITY_INDEX_LENGTH - 1})
    end
    redis.call('EXPIRE', byEntity, ttl)
    ids[i] = id
  end
end
redis.call('XTRIM', stream, 'MINID', '~', minid)
return ids`;
const APPEND_SCRIPT = new LuaScript(APPEND_LUA);
/** The key count varies with the entries: ioredis takes it per call. */
const APPEND_TX_SCRIPT: TransactionScript = { name: "syncEventLogAppend", lua: APPEND_LUA };

/** The append's Lua, as written: for bench/redis_scripts.ts, which names scripts by SHA-1. */
export const EVENT_LOG_LUA: Readonly<Record<string, string>> = { "event log append": APPEND_LUA };

/** The entity an event is about. */
export function eventEntity(event: SyncEvent): EntityKey {
  switch (event.type) {
    case "group.members.added":
    case "group.members.removed":
      return `group:${event.data.groupId}`;
    default:
      return `${event.type.startsWith("user.") ? "user" : "group"}:${event.data.id}`;
  }
}

/**
 * Appends and reads logged events.
 *
 * @example
 * const log = new EventLog(redis, { prefix: "sync", maxAgeMs: 7 * 86_400_000 });
 * await log.append(events, result, { source: "events", requestId });
 * const recent = await log.list({ entity: "user:00u1", limit: 20 });
 */
export class EventLog {
  readonly key: string;
  readonly #redis: Redis;
  readonly #keys: StoreKeys;
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;

  constructor(redis: Redis, options: EventLogOptions = {}) {
    const { prefix = "sync", maxAgeMs = 7 * 24 * 3_600_000, maxEntries = 100_000 } = options;
    if (!(maxAgeMs >= 1000)) {
      throw new RangeError(
        `Cannot create EventLog as 'maxAgeMs' must be at least 1000: current value is ${maxAgeMs}`,
      );
    }
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(
        `Cannot create EventLog as 'maxEntries' must be a positive integer: current value is ${maxEntries}`,
      );
    }
    this.#redis = redis;
    this.#keys = storeKeys(prefix);
    this.key = this.#keys.eventLog;
    this.#maxAgeMs = maxAgeMs;
    this.#maxEntries = maxEntries;
  }

  /**
   * Logs the events of one ingest. Events of a batch that had duplicates are skipped when the
   * log already holds their id, so a redelivery does not log them twice.
   *
   * @returns the log id per event ("" where skipped)
   */
  async append(
    events: SyncEvent[],
    result: ApplyResult,
    context: IngestContext,
    extra: AppendExtra = {},
  ): Promise<string[]> {
    const call = this.appendCall(events, result, context, extra);
    if (!call) return events.map(() => "");
    return await APPEND_SCRIPT.run(this.#redis, call.keys, call.args) as string[];
  }

  /**
   * The append as one script call, to run in the enqueue's transaction right after the job
   * adds (`enqueueSyncAtomically`), with `extra.jobIdKey` naming the job each entry caused.
   *
   * @returns undefined when there is nothing to log (no event accepted)
   */
  appendCall(
    events: SyncEvent[],
    result: ApplyResult,
    context: IngestContext,
    extra: AppendExtra = {},
  ): ScriptCall | undefined {
    if (events.length === 0 || result.accepted === 0) return undefined;
    const changed = new Set<string>(result.entities);
    const replayOf = extra.replayOf ?? context.replayOf;
    // Every key the script touches, in the order it reads them (see APPEND_LUA).
    const keys: string[] = [this.key];
    const perEntry: string[] = [];
    for (const event of events) {
      const entity = eventEntity(event);
      const caused = changed.has(entity);
      const data: StoredFacts = {
        e: event.id,
        src: context.source,
        type: event.type,
        ent: entity,
        // Without a time of its own, the event was ordered by the apply stamp (close to `now`).
        t: event.time ? Date.parse(event.time) : result.stamp,
        tev: event.time ? 1 : 0,
        ents: caused ? [entity] : [],
        p: mappedFields(event),
      };
      if (context.requestId) data.rq = context.requestId;
      const rof = replayOf?.get(event.id);
      if (rof) data.rof = rof;
      keys.push(this.#keys.eventLogById(event.id), this.#keys.eventLogByEntity(entity));
      let job = "";
      if (caused && extra.jobIdKey) {
        job = "?";
        keys.push(extra.jobIdKey(entity));
      } else if (caused) job = extra.jobs?.[entity] ?? "";
      perEntry.push(JSON.stringify(data), job);
    }
    // The apply stamp is Redis' own clock, read moments ago: no extra TIME round trip needed.
    return {
      script: APPEND_TX_SCRIPT,
      keys,
      args: [
        String(this.#maxEntries),
        String(Math.max(0, result.stamp - this.#maxAgeMs)),
        String(Math.ceil(this.#maxAgeMs / 1000)),
        result.duplicates > 0 ? "1" : "0",
        ...perEntry,
      ],
    };
  }

  /** One entry by event id or log id; undefined when unknown or trimmed. */
  async get(idOrLogId: string): Promise<EventLogEntry | undefined> {
    const logId = /^\d+-\d+$/.test(idOrLogId)
      ? idOrLogId
      : await this.#redis.get(this.#keys.eventLogById(idOrLogId));
    if (!logId) return undefined;
    const rows = await this.#redis.xrange(this.key, logId, logId);
    return rows[0] ? parseEntry(rows[0]) : undefined;
  }

  /** Entries matching `query`, newest first unless `ascending`. */
  async list(query: EventLogQuery = {}): Promise<EventLogEntry[]> {
    const { limit = 100 } = query;
    const out: EventLogEntry[] = [];
    for await (const entry of this.scan(query)) {
      out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Every entry matching `query`, read in chunks (for replay of a time range). An entity query
   * reads the entity's index (its last 200 events) instead of the whole stream.
   */
  async *scan(query: EventLogQuery = {}): AsyncGenerator<EventLogEntry> {
    const matches = (e: EventLogEntry) =>
      (!query.source || e.source === query.source) && (!query.type || e.type === query.type) &&
      (!query.entity || e.entity === query.entity);
    if (query.entity) {
      const ids = await this.#redis.lrange(this.#keys.eventLogByEntity(query.entity), 0, -1);
      const inRange = ids.filter((id) => {
        const ms = Number(id.split("-")[0]);
        return (query.since === undefined || ms >= query.since) &&
          (query.until === undefined || ms <= query.until);
      });
      if (query.ascending) inRange.reverse();
      const pipeline = this.#redis.pipeline();
      for (const id of inRange) pipeline.xrange(this.key, id, id);
      for (const [, rows] of (await pipeline.exec()) ?? []) {
        const row = (rows as [string, string[]][] | null)?.[0];
        const entry = row && parseEntry(row);
        if (entry && matches(entry)) yield entry;
      }
      return;
    }
    const chunk = 500;
    let low = query.since === undefined ? "-" : String(query.since);
    // An end id without a sequence number covers the whole millisecond.
    let high = query.until === undefined ? "+" : String(query.until);
    for (;;) {
      const rows = query.ascending
        ? await this.#redis.xrange(this.key, low, high, "COUNT", chunk)
        : await this.#redis.xrevrange(this.key, high, low, "COUNT", chunk);
      for (const row of rows) {
        const entry = parseEntry(row);
        if (entry && matches(entry)) yield entry;
      }
      if (rows.length < chunk) return;
      // Exclusive ranges ("(" prefix) continue after the last id read.
      const last = rows[rows.length - 1]![0];
      if (query.ascending) low = `(${last}`;
      else high = `(${last}`;
    }
  }

  /**
   * Drops entries older than the retention age, as `append` does; for times without events.
   * @returns how many entries were dropped
   */
  async trimByAge(nowMs: number): Promise<number> {
    // Exact, not "~": a sweep should leave nothing older than promised.
    return await this.#redis.xtrim(this.key, "MINID", String(Math.max(0, nowMs - this.#maxAgeMs)));
  }

  /** Entries held now. */
  async length(): Promise<number> {
    return await this.#redis.xlen(this.key);
  }
}

/** Turns a stream row into an entry; malformed rows (hand-edited) are skipped. */
function parseEntry([logId, flat]: [string, string[]]): EventLogEntry | undefined {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
  try {
    const receivedMs = Number(logId.split("-")[0]);
    // Entries appended before the one-field format kept a field per fact (same names).
    const d: Partial<StoredFacts> = f.d ? JSON.parse(f.d) : {
      e: f.e,
      src: f.src,
      type: f.type,
      ent: f.ent as EntityKey,
      t: f.t === undefined ? undefined : Number(f.t),
      tev: f.tev === "1" ? 1 : 0,
      ents: JSON.parse(f.ents ?? "[]"),
      p: JSON.parse(f.p ?? "null"),
      rq: f.rq || undefined,
      rof: f.rof || undefined,
    };
    const entity = d.ent as EntityKey;
    return {
      logId,
      eventId: d.e ?? "",
      source: d.src ?? "",
      type: d.type ?? "",
      entity,
      time: new Date(d.t ?? receivedMs).toISOString(),
      timeFromEvent: d.tev === 1,
      receivedAt: new Date(receivedMs).toISOString(),
      requestId: d.rq || undefined,
      entities: d.ents ?? [],
      jobs: f.job ? { [entity]: f.job } : JSON.parse(f.jobs ?? "{}"),
      replayOf: d.rof || undefined,
      payload: d.p as SyncEvent,
    };
  } catch {
    return undefined;
  }
}

/** What a stream entry's `d` field holds (see APPEND_LUA). */
interface StoredFacts {
  e: string;
  src: string;
  type: string;
  ent: EntityKey;
  /** The change's time (ms): the event's own, or the apply stamp. */
  t: number;
  /** 1 when `t` came from the event. */
  tev: 0 | 1;
  ents: EntityKey[];
  /** The event with only the fields the sync maps. */
  p: unknown;
  rq?: string;
  rof?: string;
}
