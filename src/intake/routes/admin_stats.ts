/** `GET /admin/api/stats`: queue counts and managed entity counts, so scripts can see a drain. */
import { Hono } from "hono";
import type { Queue } from "bullmq";
import type { SyncJobData } from "../../queue/sync_queue.ts";
import type { IonosRecords } from "../../targets/ionos/records.ts";

export interface Stats {
  jobs: {
    waiting: number;
    active: number;
    delayed: number;
    failed: number;
    completed: number;
    prioritized: number;
  };
  managed: { users: number; groups: number };
  queuePaused: boolean;
}

/** Reads the numbers behind `/admin/api/stats`; the CLI's `status` uses it too. */
export async function readStats(queue: Queue<SyncJobData>, records: IonosRecords): Promise<Stats> {
  const [counts, managed, queuePaused] = await Promise.all([
    queue.getJobCounts(
      "waiting",
      "active",
      "delayed",
      "failed",
      "completed",
      "prioritized",
    ),
    records.countManaged(),
    queue.isPaused(),
  ]);
  const n = (k: string) => counts[k] ?? 0;
  return {
    jobs: {
      // Prioritized jobs are waiting too, from a script's point of view. BullMQ 6 has no "paused"
      // state: a paused queue's jobs stay in "waiting", and `queuePaused` says why they wait.
      waiting: n("waiting") + n("prioritized"),
      active: n("active"),
      delayed: n("delayed"),
      failed: n("failed"),
      completed: n("completed"),
      prioritized: n("prioritized"),
    },
    managed,
    queuePaused,
  };
}

export function adminStatsRoute(queue: Queue<SyncJobData>, records: IonosRecords): Hono {
  const app = new Hono();
  app.get("/stats", async (c) => c.json(await readStats(queue, records)));
  return app;
}
