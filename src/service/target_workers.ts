/**
 * Starts the workers of the targets the mapping lists beside IONOS: per target a client with its
 * own Redis-shared rate limiter (src/targets/clients.ts), its links and its worker, on the queue
 * that `attachTargetQueuesFor()` (src/queue/target_queue.ts) made. Called from ./workers.ts.
 */
import type { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config/config.ts";
import type { Mapping } from "../config/mapping.ts";
import type { Logger } from "../log.ts";
import type { QueuedTarget, TargetJobData } from "../queue/target_queue.ts";
import type { WantedStateStore } from "../store/wanted_state.ts";
import { syncCloudflareGroup, syncCloudflareUser } from "../../workers/sync_cloudflare.ts";
import { syncContaboGroup, syncContaboUser } from "../../workers/sync_contabo.ts";
import { createTargetWorker, type TargetWorkerOptions } from "../../workers/target_worker.ts";
import { cloudflareClientFor, contaboClientFor } from "../targets/clients.ts";
import { TargetLinks } from "../targets/links.ts";

/** Everything a worker role needs to run the target workers. */
export interface TargetWorkersDeps {
  config: Config;
  mapping: Mapping;
  redis: Redis;
  store: WantedStateStore;
  queues: readonly Queue<TargetJobData>[];
  logger: Logger;
  onJobDone?: TargetWorkerOptions["onJobDone"];
}

/**
 * Starts one worker per listed target. Settings were checked at start-up
 * (src/targets/settings.ts), so the credentials are there.
 */
export async function startTargetWorkers(
  deps: TargetWorkersDeps,
): Promise<Worker<TargetJobData>[]> {
  const { config, mapping, redis, store, logger } = deps;
  const workers: Worker<TargetJobData>[] = [];
  for (const queue of deps.queues) {
    const target = queue.name.slice("target-sync-".length) as QueuedTarget;
    const links = new TargetLinks(redis, target, { prefix: config.redisPrefix });
    const common = { store, links, mapping, queue, logger: logger.child({ target }) };
    let steps;
    if (target === "contabo") {
      const ctx = { ...common, client: await contaboClientFor(config, redis) };
      steps = {
        user: (id: string) => syncContaboUser(ctx, id),
        group: (id: string) => syncContaboGroup(ctx, id),
      };
    } else {
      const ctx = { ...common, client: await cloudflareClientFor(config, redis) };
      steps = {
        user: (id: string) => syncCloudflareUser(ctx, id),
        group: (id: string) => syncCloudflareGroup(ctx, id),
      };
    }
    workers.push(createTargetWorker({
      target,
      connection: redis,
      steps,
      links,
      logger,
      concurrency: config.workerConcurrency,
      lockDurationMs: config.workerLockDurationMs,
      stalledIntervalMs: config.workerStalledIntervalMs,
      tracing: config.tracing,
      onJobDone: deps.onJobDone,
    }));
  }
  return workers;
}
