/** One look at the whole system for `status` (CLI) and `GET /admin/api/status`. */
import type { Queue } from "bullmq";
import { readStats, type Stats } from "../../intake/routes/admin_stats.ts";
import type { SyncJobData } from "../../queue/sync_queue.ts";
import type { IonosRecords } from "../../targets/ionos/records.ts";
import type { EventLog } from "../oplog/event_log.ts";
import { RECONCILE_SCHEDULER_ID, type ReconcileJobData } from "./scheduler.ts";

export interface Status extends Stats {
  eventLog: { entries: number };
  reconcile: { scheduled: boolean; everyMinutes?: number; mode?: string; next?: string };
}

/**
 * @example
 * const s = await readStatus(queue, records, eventLog, reconcileQueue);
 * s.jobs.failed; s.queuePaused; s.reconcile.scheduled;
 */
export async function readStatus(
  queue: Queue<SyncJobData>,
  records: IonosRecords,
  eventLog: EventLog,
  reconcileQueue: Queue<ReconcileJobData>,
): Promise<Status> {
  const [stats, entries, scheduler] = await Promise.all([
    readStats(queue, records),
    eventLog.length(),
    reconcileQueue.getJobScheduler(RECONCILE_SCHEDULER_ID),
  ]);
  const reconcile: Status["reconcile"] = { scheduled: !!scheduler };
  if (scheduler?.every) reconcile.everyMinutes = scheduler.every / 60_000;
  const mode = scheduler?.template?.data?.mode;
  if (mode) reconcile.mode = mode;
  if (scheduler?.next) reconcile.next = new Date(scheduler.next).toISOString();
  return { ...stats, eventLog: { entries }, reconcile };
}
