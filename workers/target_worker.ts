/**
 * The BullMQ worker of one non-IONOS target: takes that target's jobs and runs its sync step.
 * Each target has its own worker, queue, client and rate limiter, so one that is down only
 * delays its own jobs. Retry vs permanent is `failure_policy.ts`, as for IONOS.
 */
import { type ConnectionOptions, DelayedError, type Job, Worker } from "bullmq";
import type { Logger } from "../src/log.ts";
import {
  type QueuedTarget,
  type TargetJobData,
  targetQueueName,
} from "../src/queue/target_queue.ts";
import { telemetryOption } from "../src/queue/telemetry.ts";
import type { TargetLinks } from "../src/targets/links.ts";
import { SyncConflictError } from "./errors.ts";
import { classifyFailure, describeFailure, retryAfterOf, toJobError } from "./failure_policy.ts";
import type { TargetOutcome } from "./target_context.ts";

/** One step per entity kind. */
export interface TargetSteps {
  user(id: string): Promise<TargetOutcome>;
  group(id: string): Promise<TargetOutcome>;
}

/** Options for {@linkcode createTargetWorker}. */
export interface TargetWorkerOptions {
  target: QueuedTarget;
  connection: ConnectionOptions;
  steps: TargetSteps;
  links: TargetLinks;
  logger: Logger;
  /** @default "bull" */
  prefix?: string;
  /** @default 4 */
  concurrency?: number;
  /** @default 30_000 */
  lockDurationMs?: number;
  /** @default 30_000 */
  stalledIntervalMs?: number;
  /** @default false */
  tracing?: boolean;
  /** For metrics, labelled by target. */
  onJobDone?:
    | ((
      target: QueuedTarget,
      kind: TargetJobData["kind"],
      outcome: "completed" | "failed",
      ms: number,
    ) => void)
    | undefined;
}

/**
 * Starts the worker of one target.
 *
 * @example
 * const worker = createTargetWorker({ target: "contabo", connection, steps, links, logger });
 */
export function createTargetWorker(options: TargetWorkerOptions): Worker<TargetJobData> {
  const {
    target,
    steps,
    links,
    prefix = "bull",
    concurrency = 4,
    lockDurationMs = 30_000,
    stalledIntervalMs = 30_000,
    tracing = false,
    onJobDone,
  } = options;
  const logger = options.logger.child({ target });
  const run = async (job: Job<TargetJobData>, token?: string): Promise<TargetOutcome> => {
    const { kind, id } = job.data;
    const log = logger.child({
      jobId: job.id,
      entity: `${kind}:${id}`,
      attempt: job.attemptsMade + 1,
    });
    const started = Date.now();
    try {
      const outcome = await steps[kind](id);
      log.info("target sync done", { result: outcome.result, ms: Date.now() - started });
      return outcome;
    } catch (error) {
      const reason = describeFailure(error);
      const waitMs = retryAfterOf(error);
      if (token && waitMs !== undefined && waitMs > 0 && classifyFailure(error) === "retry") {
        // The cloud said when to come back: the job waits that long without using an attempt.
        await job.moveToDelayed(Date.now() + waitMs, token);
        await links.record(kind, id, { lastError: reason, lastSyncAt: new Date().toISOString() })
          .catch(() => {});
        log.warn("target asked to wait; job delayed", { reason, waitMs });
        throw new DelayedError();
      }
      const jobError = toJobError(error);
      const final = jobError.name === "UnrecoverableError" ||
        job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await links.record(kind, id, {
        lastError: reason,
        lastSyncAt: new Date().toISOString(),
        ...(error instanceof SyncConflictError
          ? { state: "conflict" }
          : final
          ? { state: "failed" }
          : {}),
      }).catch(() => {});
      log.warn(final ? "target sync failed for good" : "target sync failed, will retry", {
        reason,
      });
      throw jobError;
    }
  };
  const worker = new Worker<TargetJobData, TargetOutcome>(targetQueueName(target), run, {
    connection: options.connection,
    prefix,
    concurrency,
    lockDuration: lockDurationMs,
    stalledInterval: stalledIntervalMs,
    ...telemetryOption(tracing),
  });
  worker.on(
    "error",
    (error) => logger.error("target worker error", { error: describeFailure(error) }),
  );
  const elapsed = (job: Job) => (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now());
  if (onJobDone) {
    worker.on("completed", (job) => onJobDone(target, job.data.kind, "completed", elapsed(job)));
    worker.on("failed", (job) => job && onJobDone(target, job.data.kind, "failed", elapsed(job)));
  }
  return worker;
}
