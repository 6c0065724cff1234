/**
 * The `onIngested` hook that writes the event log: every accepted event, whatever its source,
 * with the sync job it produced, so an operator can follow a change from the request id to the
 * job id to the IONOS call in the worker's log lines.
 */
import type { IngestDeps } from "../intake/ingest.ts";
import type { Logger } from "../log.ts";
import type { EventLog } from "./event_log.ts";

/**
 * An `onIngested` hook for `createApp`. A failure to log is reported and swallowed: the events
 * are already stored and enqueued, and the client must not be told otherwise.
 *
 * @param also further hooks run first (metrics), also isolated from failures
 */
export function eventLogHook(
  eventLog: EventLog,
  logger: Logger,
  also: NonNullable<IngestDeps["onIngested"]>[] = [],
): NonNullable<IngestDeps["onIngested"]> {
  return async function onIngested(events, result, context, jobs) {
    for (const hook of also) {
      try {
        await hook(events, result, context, jobs);
      } catch (error) {
        logger.warn("ingest hook failed", { error, requestId: context.requestId });
      }
    }
    try {
      // Entries name the job that syncs each entity, as the enqueue answered it.
      await eventLog.append(events, result, context, { jobs });
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
