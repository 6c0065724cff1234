/**
 * A deployment in miniature for fault-injection tests: a private Redis, the IONOS simulator
 * (in this process, so its state and call log can be inspected), optionally one more target's
 * simulator with its view (test/_support/targets.ts), the intake in this process and any
 * number of worker *processes*, which a test may SIGKILL.
 */
import { Queue } from "bullmq";
import { loadConfig } from "../../../src/config/config.ts";
import { DEFAULT_MAPPING, parseMapping } from "../../../src/config/mapping.ts";
import { targetQueueName } from "../../../src/queue/target_queue.ts";
import type { TargetName } from "../../../src/targets/target.ts";
import { createLogger } from "../../../src/log.ts";
import { createSyncQueue, type SyncJobData } from "../../../src/queue/sync_queue.ts";
import { type Service, startService } from "../../../src/service.ts";
import {
  type RunningSimulator,
  type SimulatorOptions,
  startIonosSimulator,
} from "../../../src/targets/ionos/simulator/mod.ts";
import { EVENTS_TOKEN, serviceEnv } from "../../_support/harness.ts";
import { startRedis, type TestRedis } from "../../_support/redis.ts";
import { type ServiceProcess, spawnService } from "../../_support/service_process.ts";
import {
  startTargetSimulator,
  targetMapping,
  type TargetSimulator,
  type TargetView,
} from "../../_support/targets.ts";

export interface ClusterOptions {
  sim?: SimulatorOptions;
  /** Environment for the worker processes, over the defaults below. */
  workerEnv?: Record<string, string>;
  /**
   * The target under test, with the IdP groups synced to it (`targetMapping`); without it the
   * service runs on the default mapping, IONOS only.
   */
  target?: { name: TargetName; groups: readonly string[] };
}

export interface Cluster {
  redis: TestRedis;
  sim: RunningSimulator;
  /** Intake base URL. */
  url: string;
  workers: ServiceProcess[];
  queue: Queue<SyncJobData>;
  /** The target under test's view (IONOS when none was named). */
  view: TargetView;
  /** The target under test's queue (the IONOS queue for IONOS). */
  targetQueue: Queue;
  spawnWorker(): Promise<ServiceProcess>;
  post(body: unknown): Promise<Response>;
  /** Jobs not finished yet (waiting, prioritized, active, delayed) plus the outbox. */
  pending(): Promise<number>;
  /** Waits until nothing is pending twice in a row. @throws {Error} after `timeoutMs` */
  drain(timeoutMs?: number): Promise<void>;
  /** Failed jobs with their reasons, for assertion messages. */
  failures(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startRedis({ appendOnly: true });
  const sim = await startIonosSimulator({
    requestDelayMs: 20,
    rateLimitPerSecond: 0,
    ...options.sim,
  });
  const name = options.target?.name ?? "ionos";
  const groups = options.target?.groups ?? [];
  const other: TargetSimulator = await startTargetSimulator(name, { ionos: sim, groups });
  let mappingDir: string | undefined;
  let mappingEnv: Record<string, string> = {};
  if (options.target) {
    mappingDir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${mappingDir}/sync.yaml`, targetMapping(name, { groups }));
    mappingEnv = { SYNC_CONFIG: `${mappingDir}/sync.yaml` };
  }
  const env = serviceEnv(redis.url, sim.url, {
    // Short locks, so a killed worker's jobs are picked up in seconds, not BullMQ's 30 s.
    WORKER_LOCK_DURATION_MS: "2000",
    WORKER_STALLED_INTERVAL_MS: "1000",
    LOG_LEVEL: "info",
    ...other.env,
    ...mappingEnv,
    ...options.workerEnv,
  });
  const intake: Service = await startService(
    loadConfig({ ...env, PORT: "0", HOST: "127.0.0.1" }, "api"),
    options.target ? parseMapping(targetMapping(name, { groups })) : DEFAULT_MAPPING,
    createLogger({ level: "silent" }),
  );
  const queue = createSyncQueue(redis.client());
  const targetQueue = name === "ionos"
    ? queue
    : new Queue(targetQueueName(name), { connection: redis.client() });
  const queues = name === "ionos" ? [queue] : [queue, targetQueue];
  const probe = redis.client();
  const workers: ServiceProcess[] = [];

  const cluster: Cluster = {
    redis,
    sim,
    url: intake.url!,
    workers,
    queue,
    view: other.view,
    targetQueue,
    async spawnWorker() {
      const w = await spawnService("worker", { env });
      workers.push(w);
      return w;
    },
    post(body) {
      return fetch(`${intake.url}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${EVENTS_TOKEN}` },
        body: JSON.stringify(body),
      });
    },
    async pending() {
      let jobs = 0;
      for (const q of queues) {
        const c = await q.getJobCounts("waiting", "prioritized", "active", "delayed");
        jobs += Object.values(c).reduce((a, b) => a + b, 0);
      }
      return jobs + await probe.zcard("sync:outbox");
    },
    async drain(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (let quiet = 0; quiet < 2;) {
        // A finishing job may enqueue a follow-up: only two quiet looks in a row count.
        quiet = (await cluster.pending()) === 0 ? quiet + 1 : 0;
        if (Date.now() > deadline) {
          const counts = await queue.getJobCounts();
          throw new Error(`queue did not drain in ${timeoutMs} ms: ${JSON.stringify(counts)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async failures() {
      const out: string[] = [];
      for (const q of queues) {
        const failed = await q.getFailed();
        out.push(...failed.map((j) => `${q.name} ${j.name}:${j.data.id}: ${j.failedReason}`));
      }
      return out;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.kill("SIGTERM")));
      await Promise.all(queues.map((q) => q.close()));
      await other.close();
      if (mappingDir) await Deno.remove(mappingDir, { recursive: true });
      await intake.stop();
      await sim.close();
      await redis.stop();
    },
  };
  return cluster;
}
