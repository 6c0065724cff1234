/**
 * What `REDIS_WAIT_REPLICAS` costs the intake's store write: `WantedStateStore.applyEvents` with
 * 0 replica confirmations (the baseline, as before) and with 1 (Redis WAIT after the script),
 * against a primary with one replica on this machine, in the same run, one after the other for
 * each number of concurrent callers. All callers share one connection, as the intake's requests
 * do, so a WAIT holds up the writes queued behind it.
 */
import type { Redis } from "ioredis";
import { WantedStateStore } from "../src/store/wanted_state.ts";
import { startRedis } from "../test/_support/redis.ts";
import { percentile } from "./lib/percentile.ts";

export interface ReplicaAcksRun {
  replicas: number;
  callers: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export async function benchReplicaAcks(
  callers: number[],
  seconds: number,
  log: (line: string) => void,
): Promise<ReplicaAcksRun[]> {
  const primary = await startRedis();
  const replica = await startRedis({ args: ["--replicaof", "127.0.0.1", String(primary.port)] });
  const out: ReplicaAcksRun[] = [];
  try {
    const probe = replica.client();
    while (!(await probe.info("replication")).includes("master_link_status:up")) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const redis = primary.client();
    for (const n of callers) {
      for (const replicas of [0, 1]) {
        const run = await measure(redis, replicas, n, seconds);
        log(
          `replicas ${replicas}, callers ${n}: ${run.eventsPerSec.toFixed(0)} events/s, ` +
            `p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms`,
        );
        out.push(run);
      }
    }
  } finally {
    await replica.stop();
    await primary.stop();
  }
  return out;
}

async function measure(
  redis: Redis,
  replicas: number,
  callers: number,
  seconds: number,
): Promise<ReplicaAcksRun> {
  const store = new WantedStateStore(redis, {
    prefix: `bench-acks-${replicas}-${callers}`,
    replicaAcks: { replicas, timeoutMs: 2000 },
  });
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  let seq = 0;
  await Promise.all(Array.from({ length: callers }, async () => {
    while (Date.now() < end) {
      const i = seq++;
      const started = performance.now();
      await store.applyEvents([{
        id: `evt-${replicas}-${callers}-${i}`,
        type: "user.created",
        data: {
          id: `u${i}`,
          userName: `u${i}@example.com`,
          emails: [{ value: `u${i}@example.com` }],
        },
      }]);
      latencies.push(performance.now() - started);
    }
  }));
  return {
    replicas,
    callers,
    eventsPerSec: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
