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
  requestId?: string;
  /** Entities whose sync job this event caused (empty when it changed nothing, e.g. stale). */
  entities: EntityKey[];
  /** Sync job id per entity, where the job was still queued when the event was logged. */
  jobs: Record<string, string>;
  /** For source "replay": the event id that was replayed. */
  replayOf?: string;
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
  since?: number;
  /** Receive time until (inclusive), ms. */
  until?: number;
  entity?: string;
  source?: string;
  type?: string;
  /** @default 100 */
  limit?: number;
  /** Oldest first instead of newest first. @default false */
  ascending?: boolean;
}

const ENTITY_INDEX_LENGTH = 200;

/**
 * Appends entries. Each entry's `jobs` field is given (`j`), or read from the key that holds the
 * id of the job syncing its entity (`dk`, BullMQ's de-duplication key): run in the enqueue's
 * transaction right after the adds, that is the id the add answered.
 * KEYS[1] the stream, then per entry its by-id key, its by-entity key and, with `dk`, that key.
 */
const APPEND_LUA = `
local stream, maxlen, minid = KEYS[1], ARGV[1], ARGV[2]
local ttl, skipKnown = tonumber(ARGV[3]), ARGV[4] == '1'
local entries = cjson.decode(ARGV[5])
local ids = {}
local k = 1
for i, en in ipairs(entries) do
  local byId, byEntity = KEYS[k + 1], KEYS[k + 2]
  local jobKey
  k = k + 2
  if en.dk then
    jobKey = KEYS[k + 1]
    k = k + 1
  end
  if skipKnown and redis.call('EXISTS', byId) == 1 then
    ids[i] = ''
  else
    local jobs = en.j or '{}'
    if jobKey then
      local job = redis.call('GET', jobKey)
      if job then jobs = cjson.encode({ [en.ent] = job }) end
    end
    local id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'jobs', jobs, unpack(en.f))
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
    const entries = events.map((event) => {
      const entity = eventEntity(event);
      const caused = changed.has(entity);
      const fields: string[] = [
        "e",
        event.id,
        "src",
        context.source,
        "type",
        event.type,
        "ent",
        entity,
        // Without a time of its own, the event was ordered by the apply stamp (close to `now`).
        "t",
        event.time ? String(Date.parse(event.time)) : String(result.stamp),
        "tev",
        event.time ? "1" : "0",
        "ents",
        caused ? JSON.stringify([entity]) : "[]",
        "p",
        JSON.stringify(mappedFields(event)),
      ];
      if (context.requestId) fields.push("rq", context.requestId);
      const rof = replayOf?.get(event.id);
      if (rof) fields.push("rof", rof);
      const entry: { ent: string; f: string[]; j?: string; dk?: true } = { ent: entity, f: fields };
      keys.push(this.#keys.eventLogById(event.id), this.#keys.eventLogByEntity(entity));
      if (caused && extra.jobIdKey) {
        entry.dk = true;
        keys.push(extra.jobIdKey(entity));
      } else {
        const job = caused ? extra.jobs?.[entity] : undefined;
        entry.j = JSON.stringify(job ? { [entity]: job } : {});
      }
      return entry;
    });
    // The apply stamp is Redis' own clock, read moments ago: no extra TIME round trip needed.
    return {
      script: APPEND_TX_SCRIPT,
      keys,
      args: [
        String(this.#maxEntries),
        String(Math.max(0, result.stamp - this.#maxAgeMs)),
        String(Math.ceil(this.#maxAgeMs / 1000)),
        result.duplicates > 0 ? "1" : "0",
        JSON.stringify(entries),
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
    return {
      logId,
      eventId: f.e ?? "",
      source: f.src ?? "",
      type: f.type ?? "",
      entity: f.ent as EntityKey,
      time: new Date(Number(f.t ?? receivedMs)).toISOString(),
      timeFromEvent: f.tev === "1",
      receivedAt: new Date(receivedMs).toISOString(),
      ...(f.rq ? { requestId: f.rq } : {}),
      entities: JSON.parse(f.ents ?? "[]"),
      jobs: JSON.parse(f.jobs ?? "{}"),
      ...(f.rof ? { replayOf: f.rof } : {}),
      payload: JSON.parse(f.p ?? "null"),
    };
  } catch {
    return undefined;
  }
}
