/**
 * Reconcile as a job: a small queue of its own ("ionos-reconcile"), so a long IONOS listing
 * never holds up sync jobs. Runs on a BullMQ job scheduler when RECONCILE_INTERVAL_MINUTES is
 * set (off by default), and on demand from the admin API. The scheduler makes one job per
 * interval whatever the number of workers, and on-demand requests are de-duplicated while one
 * waits; two runs overlapping would only enqueue the same idempotent sync jobs twice.
 */
import { type ConnectionOptions, Queue, Worker } from "bullmq";
import type { Logger } from "../../log.ts";
import type { ReconcileReport } from "../reconcile/reconcile.ts";

export const RECONCILE_QUEUE_NAME = "ionos-reconcile";
/** The id of the reconcile job scheduler in BullMQ. */
export const RECONCILE_SCHEDULER_ID = "reconcile-every";

export type ReconcileMode = "report" | "fix";

export interface ReconcileJobData {
  mode: ReconcileMode;
  /** "scheduler" or who asked through the admin API. */
  requestedBy: string;
}

/** What a reconcile job returns: the report, items capped so the job hash stays small. */
export type ReconcileJobResult = Omit<ReconcileReport, "enqueued"> & {
  itemsTruncated: boolean;
  enqueuedCount: number;
};

const MAX_ITEMS = 1000;

/** Shrinks a report for storage as a job result. */
export function toJobResult(report: ReconcileReport): ReconcileJobResult {
  const { items, enqueued, ...rest } = report;
  return {
    ...rest,
    items: items.slice(0, MAX_ITEMS),
    itemsTruncated: items.length > MAX_ITEMS,
    enqueuedCount: enqueued.length,
  };
}

/** The reconcile queue; for callers that only enqueue (the admin API). */
export function createReconcileQueue(
  connection: ConnectionOptions,
  prefix = "bull",
): Queue<ReconcileJobData> {
  return new Queue<ReconcileJobData>(RECONCILE_QUEUE_NAME, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 1,
      removeOnComplete: { count: 50 },
      removeOnFail: { count: 50 },
    },
  });
}

/**
 * Asks for a reconcile run; while one is waiting, asking again returns the same job.
 *
 * @returns the job id, to read its result later
 */
export async function requestReconcile(
  queue: Queue<ReconcileJobData>,
  data: ReconcileJobData,
): Promise<string> {
  const job = await queue.add("reconcile", data, {
    deduplication: { id: `reconcile-${data.mode}` },
  });
  return String(job.id);
}

export interface ReconcileSchedulerOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix. @default "bull" */
  prefix?: string;
  /** 0 turns the schedule off (and removes one set up before). */
  intervalMinutes: number;
  mode: ReconcileMode;
  /** Runs one reconcile; `dryRun` for report mode. */
  run: (options: { dryRun: boolean }) => Promise<ReconcileReport>;
  logger: Logger;
}

/**
 * Sets (or removes) the schedule and starts the reconcile worker.
 *
 * @returns a function that stops the worker and closes the queue
 */
export async function startReconcileScheduler(
  options: ReconcileSchedulerOptions,
): Promise<() => Promise<void>> {
  const { connection, prefix = "bull", intervalMinutes, mode, run, logger } = options;
  const queue = createReconcileQueue(connection, prefix);
  queue.on("error", (e) => logger.warn("reconcile queue error", { error: e.message }));
  if (intervalMinutes > 0) {
    await queue.upsertJobScheduler(RECONCILE_SCHEDULER_ID, { every: intervalMinutes * 60_000 }, {
      name: "reconcile",
      data: { mode, requestedBy: "scheduler" },
    });
    logger.info("reconcile scheduled", { everyMinutes: intervalMinutes, mode });
  } else {
    // Turning the setting off must stop a schedule an earlier deployment set up.
    await queue.removeJobScheduler(RECONCILE_SCHEDULER_ID);
  }
  const worker = new Worker<ReconcileJobData, ReconcileJobResult>(
    RECONCILE_QUEUE_NAME,
    async (job) => {
      const log = logger.child({ jobId: job.id, reconcile: job.data.mode });
      log.info("reconcile started", { requestedBy: job.data.requestedBy });
      const report = await run({ dryRun: job.data.mode !== "fix" });
      log.info("reconcile done", {
        counts: report.counts,
        enqueued: report.enqueued.length,
        scanned: report.scanned,
      });
      return toJobResult(report);
    },
    { connection, prefix, concurrency: 1 },
  );
  worker.on("error", (e) => logger.error("reconcile worker error", { error: e.message }));
  worker.on("failed", (job, e) => logger.warn("reconcile failed", { jobId: job?.id, error: e }));
  return async () => {
    await worker.close();
    await queue.close();
  };
}
