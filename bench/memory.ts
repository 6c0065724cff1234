/**
 * Does the intake's memory grow with the queue? Events go in with no worker running, so every
 * job stays queued, and the intake's RSS is read at 1k, 10k and 100k queued jobs. The jobs
 * live in Redis, so the intake should stay flat while Redis grows.
 *
 * The intake is warmed up first under the same load (then Redis is emptied, so the queue
 * starts at zero): V8 sizes its heap to the allocation rate of sustained load, young
 * generation 16 -> 32 MiB semi-spaces and an old generation that collects later, which took a
 * fresh process from 129 to 203 MiB over its first 10,000 events whatever the queue held (its
 * live heap after a full GC stayed at 23-24 MiB at 1k, 10k and 100k queued jobs). Without the
 * warm-up the first checkpoint measured a process that had served ten requests.
 *
 * A single RSS reading depends on where the GC cycle stood when the load stopped (readings of
 * one run differed by up to 15%), so each checkpoint also reports the highest RSS sampled while
 * its load ran.
 *
 * At every checkpoint the parts of the intake that read the queue are asked too: `/metrics`
 * (queue gauges), `/admin/api/stats` and the dashboard's queue API (bull-board), so anything
 * that holds queued work in memory shows here.
 */
import type { Redis } from "ioredis";
import { createSyncQueue } from "../src/queue/sync_queue.ts";
import { spawnService } from "../test/_support/service_process.ts";
import { EVENTS_TOKEN } from "./lib/intake_service.ts";
import { BATCH_SIZE, userBatch } from "./lib/payloads.ts";
import { mib } from "./lib/table.ts";

const ADMIN_TOKEN = "bench-admin-token-0123456789";
/** Idle time before the reading after each checkpoint's load. */
const SETTLE_MS = 3_000;

export interface QueuedPoint {
  queuedJobs: number;
  /** RSS after the checkpoint's load, once idle. */
  intakeRss: number;
  /** Highest RSS sampled (every 100 ms) while the load that reached this checkpoint ran. */
  intakeSegmentPeakRss: number;
  intakePeakRss: number;
  redisUsedMemory: number;
}

export interface QueuedMemoryOptions {
  /** Events sent (and then dropped from Redis) before the first checkpoint. @default 50_000 */
  warmupEvents?: number;
}

export async function benchQueuedMemory(
  redisUrl: string,
  redis: Redis,
  checkpoints: number[],
  log: (line: string) => void,
  options: QueuedMemoryOptions = {},
): Promise<QueuedPoint[]> {
  const { warmupEvents = 50_000 } = options;
  await redis.flushall();
  const api = await spawnService("api", {
    env: { REDIS_URL: redisUrl, EVENTS_TOKEN, ADMIN_TOKEN },
    discardStdout: true,
  });
  const queue = createSyncQueue(redis);
  const points: QueuedPoint[] = [];
  let sent = 0;
  // Four requests in flight, 100 new users each, until `target` events were sent.
  const sendUntil = async (target: number, tag: string) => {
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (sent < target) {
        const first = sent;
        sent += BATCH_SIZE;
        const res = await fetch(`${api.url}/events`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${EVENTS_TOKEN}`,
          },
          body: userBatch(tag, first, BATCH_SIZE),
        });
        if (res.status !== 202) throw new Error(`refused: ${res.status}`);
        await res.body?.cancel();
      }
    }));
  };
  const readQueue = async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const basic = { authorization: `Basic ${btoa(`bench:${ADMIN_TOKEN}`)}` };
    for (
      const [path, headers] of [
        ["/metrics", {}],
        ["/admin/api/stats", admin],
        ["/admin/queues/api/queues?activeQueue=ionos-sync&status=waiting&page=1", basic],
      ] as const
    ) {
      const res = await fetch(`${api.url}${path}`, { headers });
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      await res.body?.cancel();
    }
  };
  try {
    if (warmupEvents > 0) {
      await sendUntil(warmupEvents, "warm");
      await readQueue();
      await redis.flushall();
      sent = 0;
      const m = api.memory()!;
      log(`  warm-up (${warmupEvents} events, then Redis emptied): intake RSS ${mib(m.rss)}`);
    }
    for (const target of checkpoints) {
      let segmentPeak = 0;
      const sampler = setInterval(() => {
        segmentPeak = Math.max(segmentPeak, api.memory()?.rss ?? 0);
      }, 100);
      try {
        await sendUntil(target, "mem");
        await readQueue();
      } finally {
        clearInterval(sampler);
      }
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const counts = await queue.getJobCounts("waiting");
      const used = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);
      const m = api.memory()!;
      points.push({
        queuedJobs: counts.waiting ?? 0,
        intakeRss: m.rss,
        intakeSegmentPeakRss: Math.max(segmentPeak, m.rss),
        intakePeakRss: m.peakRss,
        redisUsedMemory: used,
      });
      log(
        `  ${counts.waiting} queued: intake RSS ${mib(m.rss)}, highest while filling ` +
          `${mib(Math.max(segmentPeak, m.rss))} (process peak ${mib(m.peakRss)}), ` +
          `Redis ${mib(used)}`,
      );
    }
  } finally {
    await queue.close();
    await api.kill("SIGTERM");
    await redis.flushall();
  }
  return points;
}
