/**
 * The one path every accepted change takes, whatever its source (`POST /events`, SCIM, the
 * WorkOS and Keycloak adapters): store the wanted state durably, then enqueue the sync jobs.
 */
import type { Queue } from "bullmq";
import type { SyncEvent } from "../events/event.ts";
import { enqueueSync, type SyncJobData } from "../queue/sync_queue.ts";
import type { ApplyResult, EntityKey, WantedStateStore } from "../store/wanted_state.ts";

/** Where an event came from; shown in logs, metrics and the event log. */
export type EventSource = "events" | "scim" | "workos" | "keycloak" | "replay" | "reconcile";

export interface IngestDeps {
  store: WantedStateStore;
  queue: Queue<SyncJobData>;
  /**
   * Called after the events are stored and their jobs enqueued (event log, metrics), with the
   * id of the job that syncs each touched entity.
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
  deliveryId?: string;
  requestId?: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
}

/**
 * Stores events as wanted state and enqueues a sync job per touched entity.
 *
 * Resolves only once Redis has taken both; rejects if Redis is unreachable. If the state was
 * stored but enqueueing failed, the entities stay in the outbox and the worker's outbox sweep
 * enqueues them, so an event Redis took is never lost.
 *
 * @example
 * const { accepted, duplicates } = await ingestEvents(deps, events, { source: "events" });
 */
export async function ingestEvents(
  deps: IngestDeps,
  events: SyncEvent[],
  context: IngestContext,
): Promise<IngestResult> {
  const result = await deps.store.applyEvents(
    events,
    context.deliveryId ? { deliveryId: context.deliveryId } : {},
  );
  const jobs = await enqueueSync(deps.queue, result.entities);
  await deps.store.clearOutbox(result.entities, result.stamp);
  await deps.onIngested?.(events, result, context, jobs);
  return { accepted: result.accepted, duplicates: result.duplicates };
}
