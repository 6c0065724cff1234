/**
 * Replay: run logged events through the normal intake path again.
 *
 * A replayed event gets a fresh id (so event de-duplication does not drop it) and keeps its
 * original `time`, so the store's time ordering keeps it from overwriting anything newer: an
 * event that is still the newest for its entity is applied again and its entity re-synced, an
 * older one changes nothing. Workers adopt existing IONOS users by email, so replay never
 * creates a second IONOS user.
 */
import type { Queue } from "bullmq";
import { SyncEvent } from "../../events/event.ts";
import { type IngestDeps, ingestEvents } from "../../intake/ingest.ts";
import type { SyncJobData } from "../../queue/sync_queue.ts";
import type { EntityKey, WantedStateStore } from "../../store/wanted_state.ts";
import type { AuditLog } from "../oplog/audit_log.ts";
import { OpsError } from "../errors.ts";
import type { EventLog, EventLogEntry } from "../oplog/event_log.ts";

/** Which logged events to replay: one by id, or a receive-time range and/or one entity. */
export type ReplaySelection =
  | { eventId: string }
  | {
    since?: number | undefined;
    until?: number | undefined;
    entity?: string | undefined;
    source?: string | undefined;
  };

export interface ReplayOptions {
  /** Only report what would be replayed. @default false */
  dryRun?: boolean;
  /** Refuse selections larger than this. @default 50_000 */
  maxEvents?: number;
  /** Progress after each batch. */
  onProgress?: (done: number, total: number) => void;
}

export interface ReplayDeps {
  store: WantedStateStore;
  queue: Queue<SyncJobData>;
  eventLog: EventLog;
  audit: AuditLog;
  actor: string;
  /** Further ingest hooks (metrics); the event log is written by replay itself. */
  onIngested?: IngestDeps["onIngested"] | undefined;
  /** Writes for each batch's enqueue transaction (the console's count), as ingest has them. */
  alsoInTransaction?: IngestDeps["alsoInTransaction"] | undefined;
  requestId?: string | undefined;
}

export interface ReplayResult {
  dryRun: boolean;
  /** Events picked from the log. */
  selected: number;
  /** Events the store applied (older than the current state: accepted but no change). */
  accepted: number;
  /** Entities whose sync job the replay enqueued. */
  entities: EntityKey[];
  /** Original event id -> replay event id. */
  replays: { eventId: string; replayId: string; entity: string; time: string }[];
  skipped: { eventId: string; reason: string }[];
}

const BATCH = 500;

/**
 * Replays events from the log.
 *
 * @throws {OpsError} not_found for an unknown event id; invalid for an empty selection or one
 *   over `maxEvents`
 * @example
 * await replayEvents(deps, { since: Date.parse("2026-11-21T10:00Z"), until: Date.now() });
 */
export async function replayEvents(
  deps: ReplayDeps,
  selection: ReplaySelection,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const { dryRun = false, maxEvents = 50_000, onProgress } = options;
  const entries = await select(deps.eventLog, selection, maxEvents);
  const result: ReplayResult = {
    dryRun,
    selected: entries.length,
    accepted: 0,
    entities: [],
    replays: [],
    skipped: [],
  };
  const events: SyncEvent[] = [];
  const replayOf = new Map<string, string>();
  for (const entry of entries) {
    const replayId = `replay-${crypto.randomUUID()}`;
    const parsed = SyncEvent.safeParse({ ...entry.payload, id: replayId, time: entry.time });
    if (!parsed.success) {
      result.skipped.push({ eventId: entry.eventId, reason: "logged payload is not valid" });
      continue;
    }
    events.push(parsed.data);
    replayOf.set(replayId, entry.eventId);
    result.replays.push({
      eventId: entry.eventId,
      replayId,
      entity: entry.entity,
      time: entry.time,
    });
  }
  if (dryRun) return result;

  const entities = new Set<EntityKey>();
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    const context = {
      source: "replay" as const,
      replayOf,
      requestId: deps.requestId,
    };
    // The log names each replay with the event it repeats; a failure to log fails the replay.
    let logFailure: unknown;
    await ingestEvents(
      {
        store: deps.store,
        queue: deps.queue,
        eventLog: { log: deps.eventLog, onFailed: (error) => (logFailure = error) },
        alsoInTransaction: deps.alsoInTransaction,
        onIngested: async (evs, applied, ctx, jobs) => {
          applied.entities.forEach((e) => entities.add(e));
          result.accepted += applied.accepted;
          await deps.onIngested?.(evs, applied, ctx, jobs);
        },
      },
      batch,
      context,
    );
    if (logFailure) throw logFailure;
    onProgress?.(Math.min(i + BATCH, events.length), events.length);
  }
  result.entities = [...entities];
  await deps.audit.record({
    action: "replay",
    actor: deps.actor,
    ...("entity" in selection && selection.entity ? { entity: selection.entity } : {}),
    detail: {
      selection,
      selected: result.selected,
      accepted: result.accepted,
      entities: result.entities.length,
    },
  });
  return result;
}

async function select(
  log: EventLog,
  selection: ReplaySelection,
  maxEvents: number,
): Promise<EventLogEntry[]> {
  if ("eventId" in selection) {
    const entry = await log.get(selection.eventId);
    if (!entry) {
      throw new OpsError("not_found", `event ${selection.eventId} is not in the event log`);
    }
    return [entry];
  }
  if (selection.since === undefined && selection.until === undefined && !selection.entity) {
    throw new OpsError("invalid", "give an event id, a time range (since/until) or an entity");
  }
  const out: EventLogEntry[] = [];
  for await (const entry of log.scan({ ...selection, ascending: true })) {
    // Earlier replays repeat events that are in the log themselves.
    if (entry.source === "replay" && selection.source !== "replay") continue;
    out.push(entry);
    if (out.length > maxEvents) {
      throw new OpsError(
        "invalid",
        `more than ${maxEvents} events match: narrow the time range or raise the limit`,
      );
    }
  }
  // Oldest change first, so a batch applies in the order the IdP made the changes.
  return out.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}
