/**
 * Starts the workers of the targets the mapping lists beside IONOS: per target a client with its
 * own Redis-shared rate limiter, its links and its worker, on the queue that
 * `attachTargetQueuesFor()` (src/queue/target_queue.ts) made. Called from ./workers.ts.
 */
import type { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config/config.ts";
import type { Mapping } from "../config/mapping.ts";
import { RedisRateLimiter } from "../ionos/rate_limiter.ts";
import type { Logger } from "../log.ts";
import type { QueuedTarget, TargetJobData } from "../queue/target_queue.ts";
import type { WantedStateStore } from "../store/wanted_state.ts";
import { syncCloudflareGroup, syncCloudflareUser } from "../../workers/sync_cloudflare.ts";
import { syncContaboGroup, syncContaboUser } from "../../workers/sync_contabo.ts";
import { createTargetWorker, type TargetWorkerOptions } from "../../workers/target_worker.ts";
import { CloudflareClient } from "../targets/cloudflare/client.ts";
import { ContaboClient } from "../targets/contabo/client.ts";
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

/** A limiter key per target and credential, hashed: no credential ends up in Redis. */
async function limiterKey(target: QueuedTarget, identity: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${target}\n${identity}`),
  );
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${target}:rl:${hex}`;
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
      const c = config.contabo;
      const limiter = new RedisRateLimiter({
        redis,
        key: await limiterKey(target, `${c.apiUrl}\n${c.credentials!.apiUser}`),
        requestsPerSecond: c.rateLimitPerSecond,
      });
      const ctx = {
        ...common,
        client: new ContaboClient({
          apiUrl: c.apiUrl,
          authUrl: c.authUrl,
          credentials: c.credentials!,
          limiter,
        }),
      };
      steps = {
        user: (id: string) => syncContaboUser(ctx, id),
        group: (id: string) => syncContaboGroup(ctx, id),
      };
    } else {
      const c = config.cloudflare;
      const limiter = new RedisRateLimiter({
        redis,
        key: await limiterKey(target, `${c.apiUrl}\n${c.accountId}\n${c.apiToken}`),
        requestsPerSecond: c.rateLimitPerSecond,
      });
      const ctx = {
        ...common,
        client: new CloudflareClient({
          apiUrl: c.apiUrl,
          apiToken: c.apiToken!,
          accountId: c.accountId!,
          limiter,
        }),
      };
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
      ...(deps.onJobDone ? { onJobDone: deps.onJobDone } : {}),
    }));
  }
  return workers;
}
