/**
 * The queue's baseline, in its own process: BullMQ `add` (one job per call) or `addBulk`
 * (100 jobs per call) on the same Redis, with the same job options the intake uses
 * (`enqueueSync`), from a fixed number of concurrent callers. Prints one JSON line.
 */
import { Redis } from "ioredis";
import { createSyncQueue, enqueueSync, syncJobOptions } from "../src/queue/sync_queue.ts";
import type { EntityKey } from "../src/store/wanted_state.ts";
import { scriptConfig } from "./lib/child.ts";
import { percentile } from "./lib/percentile.ts";

export interface QueueConfig {
  redisUrl: string;
  /** Jobs per call: 1 is `add`, more is `addBulk`. */
  jobsPerCall: number;
  concurrency: number;
  warmupSec: number;
  durationSec: number;
  tag: string;
}

export interface QueueResult {
  callsPerSec: number;
  jobsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  calls: number;
}

const config = scriptConfig<QueueConfig>();
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const queue = createSyncQueue(redis);
let n = 0;

/** Calls for `seconds` from `concurrency` loops; returns each call's latency in ms. */
async function drive(seconds: number, tag: string): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: config.concurrency }, async () => {
    while (performance.now() < end) {
      const keys = Array.from(
        { length: config.jobsPerCall },
        () => `user:${tag}-u${n++}` as EntityKey,
      );
      const t = performance.now();
      // One job: plain `add`. Several: `enqueueSync`, the intake's own `addBulk` call.
      if (keys.length === 1) {
        const key = keys[0]!;
        await queue.add("user", { kind: "user", id: key.slice(5) }, syncJobOptions(key));
      } else {
        await enqueueSync(queue, keys);
      }
      latencies.push(performance.now() - t);
    }
  }));
  return latencies;
}

await queue.waitUntilReady();
if (config.warmupSec > 0) await drive(config.warmupSec, `${config.tag}w`);
const started = performance.now();
const latencies = await drive(config.durationSec, config.tag);
const seconds = (performance.now() - started) / 1000;
const result: QueueResult = {
  callsPerSec: latencies.length / seconds,
  jobsPerSec: (latencies.length * config.jobsPerCall) / seconds,
  latencyP50Ms: percentile(latencies, 50),
  latencyP99Ms: percentile(latencies, 99),
  calls: latencies.length,
};
await queue.close();
redis.disconnect();
console.log(JSON.stringify(result));
