/**
 * Queue gauges read from Redis at scrape time: job counts by state, whether the queue is paused,
 * and the age of the oldest waiting job (queue lag). Any role can report them, because they
 * describe shared state rather than this process.
 */
import type { Queue } from "bullmq";
import { Gauge, type Registry } from "./registry.ts";
import { METRIC_PREFIX } from "./sync_metrics.ts";

const STATES = ["waiting", "active", "delayed", "failed", "completed", "prioritized"] as const;

/**
 * Registers the gauges and a collector that refreshes them for `queues` on every scrape
 * (two Redis round trips per queue).
 *
 * @param extra further gauges to refresh at scrape (e.g. the event log length)
 */
export function registerQueueGauges(
  registry: Registry,
  queues: Queue[],
  extra: { name: string; help: string; read: () => Promise<number> }[] = [],
): void {
  const jobs = registry.add(
    new Gauge(`${METRIC_PREFIX}jobs`, "Jobs in the queue, by state (read from Redis).", [
      "queue",
      "state",
    ]),
  );
  const paused = registry.add(
    new Gauge(`${METRIC_PREFIX}queue_paused`, "1 when processing of the queue is paused.", [
      "queue",
    ]),
  );
  const lag = registry.add(
    new Gauge(
      `${METRIC_PREFIX}queue_oldest_waiting_seconds`,
      "Age of the oldest job waiting to run (0 when none waits): how far the workers lag.",
      ["queue"],
    ),
  );
  const extras = extra.map((e) => ({ ...e, gauge: registry.add(new Gauge(e.name, e.help)) }));

  registry.addCollector(async () => {
    // Stale numbers would look current: a failed read leaves these gauges out of the scrape.
    for (const g of [jobs, paused, lag, ...extras.map((e) => e.gauge)]) g.reset();
    await Promise.all(queues.map(async (queue) => {
      const [counts, isPaused, oldest] = await Promise.all([
        queue.getJobCounts(...STATES),
        queue.isPaused(),
        oldestWaiting(queue),
      ]);
      for (const state of STATES) {
        // BullMQ 6 keeps a paused queue's jobs in "waiting"; the paused gauge tells them apart.
        jobs.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
      paused.set({ queue: queue.name }, isPaused ? 1 : 0);
      lag.set({ queue: queue.name }, oldest ? Math.max(0, (Date.now() - oldest) / 1000) : 0);
    }));
    await Promise.all(extras.map(async (e) => e.gauge.set({}, await e.read())));
  });
}

/** Creation time (ms) of the oldest waiting job, or undefined when nothing waits. */
export async function oldestWaiting(queue: Queue): Promise<number | undefined> {
  // `asc` lists the oldest first; one job per state is enough.
  const jobs = await Promise.all(
    (["waiting", "prioritized"] as const).map((s) => queue.getJobs([s], 0, 0, true)),
  );
  const times = jobs.flat().map((j) => j?.timestamp).filter((t): t is number => !!t);
  return times.length ? Math.min(...times) : undefined;
}
