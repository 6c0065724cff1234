/**
 * How the intake writes the event log and runs its other ingest hooks: every accepted event,
 * whatever its source, is logged with the sync job it produced, so an operator can follow a
 * change from the request id to the job id to the IONOS call in the worker's log lines.
 */
import type { IngestDeps, IngestEventLog } from "../../intake/ingest.ts";
import type { Logger } from "../../log.ts";
import type { EventLog } from "./event_log.ts";

/**
 * The event log for `IngestDeps.eventLog`: appended in the enqueue's transaction. A failure to
 * log is reported and swallowed: the events are already stored and enqueued, and the client must
 * not be told otherwise.
 */
export function eventLogIngest(eventLog: EventLog, logger: Logger): IngestEventLog {
  return {
    log: eventLog,
    onFailed(error, events, context) {
      logger.warn("event log append failed", {
        error,
        requestId: context.requestId,
        eventIds: events.slice(0, 20).map((e) => e.id),
      });
    },
  };
}

/**
 * One `onIngested` hook that runs `hooks` in order, each isolated: a failure is reported and
 * swallowed, for the same reason as above.
 */
export function isolatedHooks(
  hooks: NonNullable<IngestDeps["onIngested"]>[],
  logger: Logger,
): NonNullable<IngestDeps["onIngested"]> {
  return async function onIngested(events, result, context, jobs) {
    for (const hook of hooks) {
      try {
        await hook(events, result, context, jobs);
      } catch (error) {
        logger.warn("ingest hook failed", { error, requestId: context.requestId });
      }
    }
  };
}
