/**
 * The BullMQ worker: takes sync jobs and runs the matching sync step. Retry vs permanent failure
 * is decided by `failure_policy.ts`; the last error is recorded where operators look.
 */
import { type ConnectionOptions, DelayedError, type Job, Worker } from "bullmq";
import { SYNC_QUEUE_NAME, type SyncJobData } from "../src/queue/sync_queue.ts";
import { telemetryOption } from "../src/queue/telemetry.ts";
import type { SyncContext, SyncOutcome } from "./context.ts";
import { SyncConflictError } from "./errors.ts";
import { describeFailure, toJobError } from "./failure_policy.ts";
import { runStepJob } from "./request_steps.ts";
import { syncGroup } from "./sync_group.ts";
import { syncUser } from "./sync_user.ts";
import { UserLookup } from "./user_lookup.ts";

export interface SyncWorkerOptions {
  connection: ConnectionOptions;
  /** @default "bull" */
  prefix?: string;
  /** Jobs run at once in this process. @default 4 */
  concurrency?: number;
  /**
   * Job lock; if this process dies, its active jobs are retried once the lock lapses.
   * @default 30_000 (BullMQ's)
   */
  lockDurationMs?: number;
  /** How often to look for stalled jobs (lock lapsed). @default 30_000 (BullMQ's) */
  stalledIntervalMs?: number;
  /** OpenTelemetry spans per job (see src/queue/telemetry.ts). @default false */
  tracing?: boolean;
  /** Called when a job stops on a conflict only a person can resolve, for metrics. */
  onConflict?: (kind: SyncJobData["kind"]) => void;
  /** Called when a job ends, for metrics. */
  onJobDone?: (job: Job<SyncJobData>, outcome: "completed" | "failed", ms: number) => void;
  /**
   * A job waiting for its IONOS requests gives its slot back and looks again after this long
   * (sooner, when this process learns they ended). @default 2000
   */
  requestRecheckMs?: number;
}

/** Runs one sync job and records its failure where operators look. */
async function runSyncJob(
  ctx: SyncContext,
  job: Job<SyncJobData>,
  token: string | undefined,
  options: Pick<SyncWorkerOptions, "onConflict" | "requestRecheckMs">,
): Promise<SyncOutcome> {
  const { kind, id } = job.data;
  const log = ctx.logger.child({
    jobId: job.id,
    entity: `${kind}:${id}`,
    attempt: job.attemptsMade + 1,
  });
  const step = kind === "user" ? syncUser : syncGroup;
  const started = Date.now();
  try {
    const outcome = await runStepJob({ ...ctx, logger: log }, job, token, step, {
      recheckMs: options.requestRecheckMs,
    });
    log.info("sync done", {
      result: outcome.result,
      ionosId: outcome.ionosId,
      ms: Date.now() - started,
    });
    return outcome;
  } catch (error) {
    // Waiting for IONOS with the slot given back: no failure, nothing to record.
    if (error instanceof DelayedError) throw error;
    const reason = describeFailure(error);
    const jobError = toJobError(error);
    const final = jobError.name === "UnrecoverableError" ||
      job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    // A conflict is reported as such (twin record, whois, SCIM extension, metrics): a person
    // has to resolve it, and the job says what was still applied.
    const conflict = error instanceof SyncConflictError;
    if (conflict) options.onConflict?.(kind);
    await ctx.records.set(kind, id, {
      lastError: reason,
      lastSyncAt: new Date().toISOString(),
      ...(conflict ? { state: "conflict" as const } : final ? { state: "failed" as const } : {}),
    }).catch(() => {});
    log.warn(final ? "sync failed for good" : "sync failed, will retry", { reason });
    throw jobError;
  }
}

/**
 * Starts a worker on the sync queue.
 *
 * @example
 * const worker = createSyncWorker(ctx, { connection, concurrency: 4 });
 * await worker.close(); // waits for active jobs
 */
export function createSyncWorker(
  ctx: SyncContext,
  options: SyncWorkerOptions,
): Worker<SyncJobData> {
  const {
    prefix = "bull",
    concurrency = 4,
    lockDurationMs = 30_000,
    stalledIntervalMs = 30_000,
    onJobDone,
  } = options;
  // One per process: the user jobs' email lookups share listings during bulk loads.
  const shared = { ...ctx, userLookup: ctx.userLookup ?? new UserLookup(ctx.ionos) };
  const worker = new Worker<SyncJobData, SyncOutcome>(
    SYNC_QUEUE_NAME,
    (job, token) => runSyncJob(shared, job, token, options),
    {
      connection: options.connection,
      prefix,
      concurrency,
      lockDuration: lockDurationMs,
      stalledInterval: stalledIntervalMs,
      autorun: true,
      ...telemetryOption(options.tracing ?? false),
    },
  );
  // BullMQ reports loop errors only through this event: without a listener they would vanish.
  worker.on(
    "error",
    (error) => ctx.logger.error("worker error", { error: describeFailure(error) }),
  );
  if (onJobDone) {
    worker.on("completed", (job) => onJobDone(job, "completed", elapsed(job)));
    worker.on("failed", (job) => job && onJobDone(job, "failed", elapsed(job)));
  }
  return worker;
}

const elapsed = (job: Job) => (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now());
