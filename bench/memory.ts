/**
 * Does the intake's memory grow with the queue? Events go in with no worker running, so every
 * job stays queued, and the intake's RSS is read at 1k, 10k and 100k queued jobs. The jobs
 * live in Redis, so the intake should stay flat while Redis grows.
 */
import type { Redis } from "ioredis";
import { createSyncQueue } from "../src/queue/sync_queue.ts";
import { spawnService } from "../test/chaos/_lib/service_process.ts";
import { EVENTS_TOKEN } from "./intake.ts";
import { BATCH_SIZE, userBatch } from "./lib/payloads.ts";
import { mib } from "./lib/table.ts";

export interface QueuedPoint {
  queuedJobs: number;
  intakeRss: number;
  intakePeakRss: number;
  redisUsedMemory: number;
}

export async function benchQueuedMemory(
  redisUrl: string,
  redis: Redis,
  checkpoints: number[],
  log: (line: string) => void,
): Promise<QueuedPoint[]> {
  await redis.flushall();
  const api = await spawnService("api", {
    env: { REDIS_URL: redisUrl, EVENTS_TOKEN },
    discardStdout: true,
  });
  const queue = createSyncQueue(redis);
  const points: QueuedPoint[] = [];
  let sent = 0;
  try {
    for (const target of checkpoints) {
      // Four requests in flight, 100 new users each, until the checkpoint.
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
            body: userBatch("mem", first, BATCH_SIZE),
          });
          if (res.status !== 202) throw new Error(`refused: ${res.status}`);
          await res.body?.cancel();
        }
      }));
      await new Promise((r) => setTimeout(r, 1000)); // let the heap settle
      const counts = await queue.getJobCounts("waiting");
      const used = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);
      const m = api.memory()!;
      points.push({
        queuedJobs: counts.waiting ?? 0,
        intakeRss: m.rss,
        intakePeakRss: m.peakRss,
        redisUsedMemory: used,
      });
      log(
        `  ${counts.waiting} queued: intake RSS ${mib(m.rss)} (peak ${mib(m.peakRss)}), ` +
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
