/**
 * Reconcile as a job: a small queue of its own ("ionos-reconcile"), so a long IONOS listing
 * never holds up sync jobs. Runs on a BullMQ job scheduler when RECONCILE_INTERVAL_MINUTES is
 * set (off by default), and on demand from the admin API. The scheduler makes one job per
 * interval whatever the number of workers, and on-demand requests are de-duplicated while one
 * waits; two runs overlapping would only enqueue the same idempotent sync jobs twice.
 *
 * Each target has its own runs (`target` in the job data, IONOS when absent) and, when the
 * interval is set, its own schedule: a run reads one cloud and enqueues on that cloud's queue.
 */
import { type ConnectionOptions, Queue, Worker } from "bullmq";
import type { Logger } from "../../log.ts";
import { TARGET_NAMES, type TargetName } from "../../targets/target.ts";
import type { ReconcileReport } from "../reconcile/reconcile.ts";
import type { TargetReconcileReport } from "../reconcile/target_reconcile.ts";

export const RECONCILE_QUEUE_NAME = "ionos-reconcile";
/** The id of the (IONOS) reconcile job scheduler in BullMQ. */
export const RECONCILE_SCHEDULER_ID = "reconcile-every";

/** The scheduler id of a target's reconcile; IONOS keeps the one it always had. */
export const reconcileSchedulerId = (target: TargetName) =>
  target === "ionos" ? RECONCILE_SCHEDULER_ID : `${RECONCILE_SCHEDULER_ID}-${target}`;

export type ReconcileMode = "report" | "fix";

export interface ReconcileJobData {
  mode: ReconcileMode;
  /** "scheduler" or who asked through the admin API. */
  requestedBy: string;
  /** The cloud to compare with. @default "ionos" */
  target?: TargetName;
}

/** A run's report, IONOS's or another target's. */
export type AnyReconcileReport = ReconcileReport | TargetReconcileReport;

/** What a reconcile job returns: the report, items capped so the job hash stays small. */
export type ReconcileJobResult =
  & (Omit<ReconcileReport, "enqueued"> | Omit<TargetReconcileReport, "enqueued">)
  & { itemsTruncated: boolean; enqueuedCount: number };

const MAX_ITEMS = 1000;

/** Shrinks a report for storage as a job result. */
export function toJobResult(report: AnyReconcileReport): ReconcileJobResult {
  const { items, enqueued, ...rest } = report;
  // Rebuilt from one report, so the pieces stay of one kind (IONOS's or a target's).
  return {
    ...rest,
    items: items.slice(0, MAX_ITEMS),
    itemsTruncated: items.length > MAX_ITEMS,
    enqueuedCount: enqueued.length,
  } as ReconcileJobResult;
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
  const target = data.target ?? "ionos";
  const job = await queue.add("reconcile", data, {
    // IONOS keeps its id; each other target waits in its own line.
    deduplication: {
      id: target === "ionos" ? `reconcile-${data.mode}` : `reconcile-${target}-${data.mode}`,
    },
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
  /** The targets to schedule (each its own run). @default ["ionos"] */
  targets?: readonly TargetName[];
  /** Runs one reconcile of `target`; `dryRun` for report mode. */
  run: (options: { dryRun: boolean; target: TargetName }) => Promise<AnyReconcileReport>;
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
  const { connection, prefix = "bull", intervalMinutes, mode, targets = ["ionos"], run, logger } =
    options;
  const queue = createReconcileQueue(connection, prefix);
  queue.on("error", (e) => logger.warn("reconcile queue error", { error: e.message }));
  for (const target of TARGET_NAMES) {
    const id = reconcileSchedulerId(target);
    if (intervalMinutes > 0 && targets.includes(target)) {
      await queue.upsertJobScheduler(id, { every: intervalMinutes * 60_000 }, {
        name: "reconcile",
        // IONOS's job data stays as it was: no target means IONOS.
        data: { mode, requestedBy: "scheduler", ...(target === "ionos" ? {} : { target }) },
      });
      logger.info("reconcile scheduled", { everyMinutes: intervalMinutes, mode, target });
    } else {
      // Turning the setting off (or a target no longer listed) must stop a schedule an earlier
      // deployment set up.
      await queue.removeJobScheduler(id);
    }
  }
  const worker = new Worker<ReconcileJobData, ReconcileJobResult>(
    RECONCILE_QUEUE_NAME,
    async (job) => {
      const target = job.data.target ?? "ionos";
      const log = logger.child({ jobId: job.id, reconcile: job.data.mode, target });
      log.info("reconcile started", { requestedBy: job.data.requestedBy });
      const report = await run({ dryRun: job.data.mode !== "fix", target });
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
