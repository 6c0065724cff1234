/**
 * The service's metrics and the hook functions that feed them. Counters live in-process: an
 * `api` process counts intake, a `worker` process counts jobs and IONOS calls. Queue gauges are
 * read from Redis at scrape time (see ./queue_gauges.ts), so every role can report them.
 */
import type { Job } from "bullmq";
import type { SyncEvent } from "../events/event.ts";
import type { IngestContext } from "../intake/ingest.ts";
import type { IonosCallInfo, IonosRetryInfo } from "../targets/ionos/client.ts";
import type { SyncJobData } from "../queue/sync_queue.ts";
import type { ApplyResult } from "../store/wanted_state.ts";
import { Counter, Gauge, Histogram, Registry } from "./registry.ts";

/** Every metric name starts with this. */
export const METRIC_PREFIX = "ionos_sync_";

/**
 * The metric families of one process, with hooks shaped for `createApp`, `IonosClient` and
 * `createSyncWorker`.
 *
 * @example
 * const metrics = new SyncMetrics();
 * const ionos = new IonosClient({ ...options, onCall: metrics.onIonosCall });
 * const text = await metrics.registry.render();
 */
export class SyncMetrics {
  readonly registry = new Registry();
  readonly eventsReceived = this.registry.add(
    new Counter(
      `${METRIC_PREFIX}events_received_total`,
      "Events accepted by the intake, by source and type (duplicates excluded).",
      ["source", "type"],
    ),
  );
  readonly eventsDuplicate = this.registry.add(
    new Counter(
      `${METRIC_PREFIX}events_duplicate_total`,
      "Events dropped as duplicates (same event id or delivery id seen before), by source.",
      ["source"],
    ),
  );
  readonly eventsClockClamped = this.registry.add(
    new Counter(
      `${METRIC_PREFIX}event_time_clamped_total`,
      "Events whose time was too far ahead of Redis' clock and was applied at that clock.",
      ["source"],
    ),
  );
  readonly syncConflicts = this.registry.add(
    new Counter(
      `${METRIC_PREFIX}sync_conflicts_total`,
      "Sync jobs stopped by a conflict only a person can resolve (shared or protected email, " +
        "an account adoption refused), by entity kind.",
      ["kind"],
    ),
  );
  readonly intakeRejections = this.registry.add(
    new Counter(
      `${METRIC_PREFIX}intake_rejections_total`,
      "Requests POST /events and the /hooks/* webhooks refused, by reason.",
      ["reason"],
    ),
  );
  readonly jobDuration = this.registry.add(
    new Histogram(
      `${METRIC_PREFIX}job_duration_seconds`,
      "Time a sync job attempt ran in this worker, by entity kind and outcome.",
      ["kind", "outcome"],
    ),
  );
  /** Jobs of the targets beside IONOS (issue 11), labelled by target. */
  readonly targetJobDuration = this.registry.add(
    new Histogram(
      `${METRIC_PREFIX}target_job_duration_seconds`,
      "Time a target sync job attempt ran in this worker, by target, entity kind and outcome.",
      ["target", "kind", "outcome"],
    ),
  );
  readonly ionosRequests = this.registry.add(
    new Counter(
      `${METRIC_PREFIX}ionos_requests_total`,
      "HTTP requests to IONOS, by method, route template and status ('error': no answer).",
      ["method", "route", "status"],
    ),
  );
  readonly ionosDuration = this.registry.add(
    new Histogram(
      `${METRIC_PREFIX}ionos_request_duration_seconds`,
      "Duration of one HTTP request to IONOS, by method and route template.",
      ["method", "route"],
    ),
  );
  readonly ionosRetries = this.registry.add(
    new Counter(
      `${METRIC_PREFIX}ionos_retries_total`,
      "Retries inside one IONOS client call (429, 5xx, timeouts), by method and route.",
      ["method", "route"],
    ),
  );
  readonly rateLimitWait = this.registry.add(
    new Histogram(
      `${METRIC_PREFIX}ionos_rate_limit_wait_seconds`,
      "Time spent waiting for the shared IONOS rate limiter before a request (waits >= 5 ms).",
      [],
      [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
    ),
  );
  readonly ionosLastAnswer = this.registry.add(
    new Gauge(
      `${METRIC_PREFIX}ionos_last_answer_timestamp_seconds`,
      "Unix time of the last IONOS answer that was not a 5xx, 429 or network error.",
    ),
  );
  readonly reconcileDrift = this.registry.add(
    new Gauge(
      `${METRIC_PREFIX}reconcile_drift`,
      "Planned changes found by the last reconcile run of each target in this process, by action.",
      ["action", "target"],
    ),
  );

  /** For `createApp({ onRejected })`. */
  readonly onRejected = (reason: string): void => {
    this.intakeRejections.inc({ reason });
  };

  /** Counts accepted events; called from the `onIngested` hook. */
  readonly onIngested = (events: SyncEvent[], result: ApplyResult, ctx: IngestContext): void => {
    if (result.duplicates > 0) this.eventsDuplicate.inc({ source: ctx.source }, result.duplicates);
    if (result.clamped > 0) this.eventsClockClamped.inc({ source: ctx.source }, result.clamped);
    // A batch with duplicates does not say which ones: count accepted ones by the batch's types
    // only when none was a duplicate, else count them under type "mixed".
    if (result.duplicates === 0) {
      for (const e of events) this.eventsReceived.inc({ source: ctx.source, type: e.type });
    } else if (result.accepted > 0) {
      this.eventsReceived.inc({ source: ctx.source, type: "mixed" }, result.accepted);
    }
  };

  /** For `IonosClient({ onCall })`. */
  readonly onIonosCall = (info: IonosCallInfo): void => {
    const { method, route } = info;
    this.ionosRequests.inc({ method, route, status: String(info.status) });
    this.ionosDuration.observe({ method, route }, info.durationMs / 1000);
    if (isHealthyAnswer(info.status)) this.ionosLastAnswer.set({}, Date.now() / 1000);
  };

  /** For `IonosClient({ onRetry })`. */
  readonly onIonosRetry = (info: IonosRetryInfo): void => {
    this.ionosRetries.inc({ method: info.method, route: info.route });
  };

  /** For `IonosClient({ onRateLimitWait })`. */
  readonly onRateLimitWait = (ms: number): void => {
    this.rateLimitWait.observe({}, ms / 1000);
  };

  /** For `createSyncWorker({ onJobDone })`. */
  readonly onJobDone = (
    job: Job<SyncJobData>,
    outcome: "completed" | "failed",
    ms: number,
  ): void => {
    this.jobDuration.observe({ kind: job.data.kind, outcome }, ms / 1000);
  };

  /**
   * Records the counts of a target's reconcile plan. Every action is in `counts`, zero or not,
   * so each run overwrites its target's series and leaves the other targets' as they were.
   */
  readonly onReconciled = (counts: Record<string, number>, target = "ionos"): void => {
    for (const [action, n] of Object.entries(counts)) {
      this.reconcileDrift.set({ action, target }, n);
    }
  };
}

/** An answer that shows IONOS is up: anything but 5xx, 429 and no answer at all. */
export function isHealthyAnswer(status: number | "error"): boolean {
  return status !== "error" && status < 500 && status !== 429;
}
