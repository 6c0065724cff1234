/**
 * How each part is made from the configuration, spelled once for every role and the CLI: the
 * Redis connections, the queues' options, the stores and logs, and the IONOS client with the
 * rate limiter all processes share. Which parts a role starts, and how they plug together, is
 * `src/service/intake.ts` and `src/service/workers.ts`.
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config/config.ts";
import type { Mapping } from "../config/mapping.ts";
import { IonosClient, type IonosClientOptions } from "../targets/ionos/client.ts";
import { rateLimiterKey, RedisRateLimiter } from "../targets/rate_limiter.ts";
import type { Logger } from "../log.ts";
import { definedProps } from "../defined_props.ts";
import { AuditLog } from "../ops/oplog/audit_log.ts";
import { EventLog } from "../ops/oplog/event_log.ts";
import { createReconcileQueue, type ReconcileJobData } from "../ops/queues/scheduler.ts";
import type { SyncQueueOptions } from "../queue/sync_queue.ts";
import { createRedis, type RedisSettings } from "../store/redis_connection.ts";
import { IonosRecords } from "../targets/ionos/records.ts";
import { WantedStateStore } from "../store/wanted_state.ts";

/** How long the intake waits for Redis before it answers 503. */
export const INTAKE_REDIS_TIMEOUT_MS = 5_000;

/**
 * Redis options for the intake: fail fast when Redis is away, so callers get a 503 at once.
 *
 * @param perCommandTimeout false for the connection ingest enqueues on: ioredis' commandTimeout
 *   sets and clears a timer for every command, 105 for a request of 100 events (about 8 µs
 *   each here); ingest bounds its whole transaction with one timer instead (issue 9).
 */
export function intakeRedis(settings: RedisSettings, perCommandTimeout = true): Redis {
  // WAIT for replicas (REDIS_WAIT_REPLICAS) may take its own timeout on top.
  const timeoutMs = INTAKE_REDIS_TIMEOUT_MS +
    (settings.waitReplicas > 0 ? settings.waitTimeoutMs : 0);
  return createRedis(settings, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // ioredis copies its options key by key: no commandTimeout key at all when off.
    ...definedProps({ commandTimeout: perCommandTimeout ? timeoutMs : undefined }),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
}

/** Redis for workers: wait through restarts instead of failing jobs. */
export function workerRedis(settings: RedisSettings): Redis {
  return createRedis(settings, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
}

/** Redis for one operator command: connected by the caller, and failing in seconds. */
export function commandRedis(settings: RedisSettings): Redis {
  return createRedis(settings, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    // An operator command should fail in seconds, not wait for Redis forever.
    retryStrategy: (attempt) => (attempt > 3 ? null : attempt * 200),
    sentinelRetryStrategy: (attempt) => (attempt > 3 ? null : attempt * 200),
  });
}

/**
 * The options of the IONOS queue, and of the target queues beside it (`TargetQueueOptions` has
 * the same fields): one prefix for all, so a Cluster keeps them in the store's slot.
 */
export function syncQueueOptions(config: Config): Required<SyncQueueOptions> {
  return {
    prefix: config.bullPrefix,
    attempts: config.jobAttempts,
    backoffMs: config.jobBackoffMs,
    tracing: config.tracing,
  };
}

/**
 * The wanted state. The options only matter to `applyEvents`, so every caller gets the same
 * store: an event replayed by an operator changes the wanted state as it did through the intake.
 */
export function wantedStateStore(
  redis: Redis,
  config: Config,
  mapping: Pick<Mapping, "administrators">,
): WantedStateStore {
  return new WantedStateStore(redis, {
    prefix: config.redisPrefix,
    dedupeTtlSeconds: config.dedupeTtlSeconds,
    maxClockSkewMs: config.maxEventClockSkewMs,
    administrators: mapping.administrators,
    replicaAcks: { replicas: config.redis.waitReplicas, timeoutMs: config.redis.waitTimeoutMs },
  });
}

/** The twin records of IONOS. */
export function syncRecords(redis: Redis, config: Config): IonosRecords {
  return new IonosRecords(redis, { prefix: config.redisPrefix });
}

/** The event log for a configuration (reading works even when logging is off). */
export function eventLog(redis: Redis, config: Config): EventLog {
  return new EventLog(redis, {
    prefix: config.redisPrefix,
    maxAgeMs: config.ops.eventLogMaxAgeMs,
    maxEntries: Math.max(1, config.ops.eventLogMaxEntries),
  });
}

/** The audit log of operator actions. */
export function auditLog(redis: Redis, config: Config): AuditLog {
  return new AuditLog(redis, { prefix: config.redisPrefix });
}

/**
 * The reconcile queue, for enqueueing and reading runs (the scheduler's worker has its own).
 *
 * @param logger without one, queue errors go nowhere (a command reports its own failure)
 */
export function reconcileQueue(
  redis: Redis,
  config: Config,
  logger?: Logger,
): Queue<ReconcileJobData> {
  const queue = createReconcileQueue(redis, config.bullPrefix);
  if (logger) queue.on("error", (e) => logger.warn("reconcile queue error", { error: e.message }));
  return queue;
}

/** What {@linkcode ionosClient} adds to the client beyond the configuration. */
export type IonosExtras = Pick<
  IonosClientOptions,
  "logger" | "onCall" | "onRetry" | "onRateLimitWait"
>;

/**
 * The IONOS client, through the rate limiter shared in Redis by every process with the same
 * credentials (a reconcile from the CLI must not starve the workers into 429s).
 *
 * @throws {TypeError} without IONOS credentials (the callers check for them first)
 */
export async function ionosClient(
  redis: Redis,
  config: Config,
  extras: IonosExtras = {},
): Promise<{ client: IonosClient; rateLimiter: RedisRateLimiter }> {
  const auth = config.ionos.auth;
  if (!auth) throw new TypeError("Cannot call IONOS as no credentials are configured");
  const rateLimiter = new RedisRateLimiter({
    redis,
    key: await rateLimiterKey(config.ionos.apiUrl, auth),
    requestsPerSecond: config.ionos.rateLimitPerSecond,
  });
  const client = new IonosClient({
    baseUrl: config.ionos.apiUrl,
    auth,
    rateLimiter,
    maxAttempts: config.ionos.maxAttempts,
    timeoutMs: config.ionos.timeoutMs,
    requestTimeoutMs: config.ionos.requestTimeoutMs,
    contractNumber: config.ionos.contractNumber,
    ...extras,
  });
  return { client, rateLimiter };
}
