/**
 * The one path every accepted change takes, whatever its source (`POST /events`, SCIM, the
 * WorkOS and Keycloak adapters): store the wanted state durably, then enqueue the sync jobs.
 */
import type { Queue } from "bullmq";
import type { SyncEvent } from "../events/event.ts";
import type { EventLog } from "../ops/oplog/event_log.ts";
import {
  type AtomicEnqueueSteps,
  enqueueSyncAtomically,
  jobCounterKeys,
  type ScriptCall,
  syncJobIdKey,
} from "../queue/atomic_enqueue.ts";
import type { SyncJobData } from "../queue/sync_queue.ts";
import type { ApplyResult, EntityKey, WantedStateStore } from "../store/wanted_state.ts";

/** Where an event came from; shown in logs, metrics and the event log. */
export type EventSource = "events" | "scim" | "workos" | "keycloak" | "replay" | "reconcile";

/** The event log as ingest writes it: in the enqueue's round trip. */
export interface IngestEventLog {
  log: EventLog;
  /**
   * Told when the append failed. The events are stored and enqueued all the same, and the
   * client must not be told otherwise.
   */
  onFailed(error: unknown, events: SyncEvent[], context: IngestContext): void;
}

export interface IngestDeps {
  store: WantedStateStore;
  queue: Queue<SyncJobData>;
  /** Logs every accepted event, with the job it caused, in the same transaction as the adds. */
  eventLog?: IngestEventLog | undefined;
  /**
   * How long to wait for the enqueue transaction, for a queue whose connection has no
   * per-command timeout (see `enqueueSyncAtomically`). @default no limit
   */
  enqueueTimeoutMs?: number;
  /**
   * The connection the enqueue transaction is sent on: one that defines no scripts of its own
   * (see `AtomicEnqueueSteps.connection`). @default the queue's
   */
  transactionConnection?: AtomicEnqueueSteps["connection"] | undefined;
  /**
   * More writes for the enqueue's transaction, after the adds (the console's per-minute count):
   * they cost no round trip of their own. A failure of one is ignored, like the log's.
   */
  alsoInTransaction?: ((result: ApplyResult) => ScriptCall[]) | undefined;
  /**
   * Called after the events are stored and their jobs enqueued (metrics), with the id of the
   * job that syncs each touched entity.
   */
  onIngested?: (
    events: SyncEvent[],
    result: ApplyResult,
    context: IngestContext,
    jobs: Record<EntityKey, string>,
  ) => Promise<void> | void;
}

export interface IngestContext {
  source: EventSource;
  /** Delivery id for whole-request de-duplication (Standard Webhooks `webhook-id`). */
  deliveryId?: string | undefined;
  requestId?: string | undefined;
  /** For source "replay": new event id -> the logged event it replays. */
  replayOf?: ReadonlyMap<string, string>;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
}

/**
 * Stores events as wanted state and enqueues a sync job per touched entity, in two Redis round
 * trips: the store script (state, de-duplication, outbox), then one transaction with the job
 * adds, the outbox clean-up and the event-log append.
 *
 * Resolves only once Redis has taken both; rejects if Redis is unreachable. If the state was
 * stored but enqueueing failed, the entities stay in the outbox (the clean-up runs only when
 * every add did) and the worker's outbox sweep enqueues them, so an event Redis took is never
 * lost.
 *
 * @example
 * const { accepted, duplicates } = await ingestEvents(deps, events, { source: "events" });
 */
export async function ingestEvents(
  deps: IngestDeps,
  events: SyncEvent[],
  context: IngestContext,
): Promise<IngestResult> {
  const { store, queue, eventLog } = deps;
  const result = await store.applyEvents(
    events,
    context.deliveryId ? { deliveryId: context.deliveryId } : {},
  );
  const before: ScriptCall[] = [];
  const after: ScriptCall[] = [];
  if (result.entities.length) {
    const clear = store.outboxClearCalls(result.entities, result.stamp, jobCounterKeys(queue));
    before.push(clear.before);
    after.push(clear.after);
  }
  const logCall = eventLog?.log.appendCall(events, result, context, {
    jobIdKey: (entity) => syncJobIdKey(queue, entity),
  });
  if (logCall) after.push(logCall);
  if (result.accepted > 0 && deps.alsoInTransaction) after.push(...deps.alsoInTransaction(result));
  const enqueued = await enqueueSyncAtomically(queue, result.entities, {
    before,
    after,
    timeoutMs: deps.enqueueTimeoutMs || undefined, // 0: no limit, as unset (the steps refuse 0)
    connection: deps.transactionConnection,
  });
  const logReply = logCall ? enqueued.after[after.indexOf(logCall)] : undefined;
  if (logReply?.[0]) eventLog!.onFailed(logReply[0], events, context);
  await deps.onIngested?.(events, result, context, enqueued.jobs);
  return { accepted: result.accepted, duplicates: result.duplicates };
}
