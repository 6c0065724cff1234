/**
 * The `onIngested` hook that writes the event log: every accepted event, whatever its source,
 * with the sync job it produced, so an operator can follow a change from the request id to the
 * job id to the IONOS call in the worker's log lines.
 */
import type { Queue } from "bullmq";
import type { SyncEvent } from "../events/event.ts";
import type { IngestContext, IngestDeps } from "../intake/ingest.ts";
import type { Logger } from "../log.ts";
import type { SyncJobData } from "../queue/sync_queue.ts";
import type { ApplyResult } from "../store/wanted_state.ts";
import type { AppendExtra, EventLog } from "./event_log.ts";

/**
 * Logs one ingest with the job ids of its entities. A job that already finished (fast workers)
 * is simply not named; the entity still is.
 */
export async function logIngested(
  eventLog: EventLog,
  queue: Queue<SyncJobData>,
  events: SyncEvent[],
  result: ApplyResult,
  context: IngestContext,
  extra: Omit<AppendExtra, "jobs"> = {},
): Promise<string[]> {
  const jobs: Record<string, string> = {};
  // The de-duplication key names the job that will sync the entity's newest state.
  const ids = await Promise.all(result.entities.map((e) => queue.getDeduplicationJobId(e)));
  result.entities.forEach((e, i) => {
    if (ids[i]) jobs[e] = ids[i]!;
  });
  return await eventLog.append(events, result, context, { ...extra, jobs });
}

/**
 * An `onIngested` hook for `createApp`. A failure to log is reported and swallowed: the events
 * are already stored and enqueued, and the client must not be told otherwise.
 *
 * @param also further hooks run first (metrics), also isolated from failures
 */
export function eventLogHook(
  eventLog: EventLog,
  queue: Queue<SyncJobData>,
  logger: Logger,
  also: NonNullable<IngestDeps["onIngested"]>[] = [],
): NonNullable<IngestDeps["onIngested"]> {
  return async function onIngested(events, result, context) {
    for (const hook of also) {
      try {
        await hook(events, result, context);
      } catch (error) {
        logger.warn("ingest hook failed", { error, requestId: context.requestId });
      }
    }
    try {
      await logIngested(eventLog, queue, events, result, context);
      if (result.entities.length) {
        logger.debug("events logged", {
          requestId: context.requestId,
          source: context.source,
          entities: result.entities.slice(0, 20),
        });
      }
    } catch (error) {
      logger.warn("event log append failed", {
        error,
        requestId: context.requestId,
        eventIds: events.slice(0, 20).map((e) => e.id),
      });
    }
  };
}
