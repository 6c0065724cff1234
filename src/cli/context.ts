/**
 * What a CLI command works with: the same configuration loader, Redis keys and queues as the
 * service, opened for one command and closed after it. IONOS is opened only for commands that
 * call it, so most commands need nothing but REDIS_URL.
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type Config, loadConfig } from "../config/config.ts";
import { loadMapping, type Mapping } from "../config/mapping.ts";
import { IonosClient } from "../ionos/client.ts";
import { rateLimiterKey, RedisRateLimiter } from "../ionos/rate_limiter.ts";
import { AuditLog } from "../ops/audit_log.ts";
import { OpsError } from "../ops/errors.ts";
import type { EventLog } from "../ops/event_log.ts";
import { createReconcileQueue, type ReconcileJobData } from "../ops/scheduler.ts";
import { eventLog as eventLogFor } from "../service/parts.ts";
import { createSyncQueue, type SyncJobData } from "../queue/sync_queue.ts";
import { createRedis, describeRedis } from "../store/redis_connection.ts";
import { SyncRecords } from "../store/sync_records.ts";
import { WantedStateStore } from "../store/wanted_state.ts";

/** Also what the operator actions take as their deps (`OpsDeps`, `ReplayDeps`). */
export interface CliContext {
  config: Config;
  redis: Redis;
  queue: Queue<SyncJobData>;
  reconcileQueue: Queue<ReconcileJobData>;
  store: WantedStateStore;
  records: SyncRecords;
  eventLog: EventLog;
  audit: AuditLog;
  /** For the audit log: "cli:<user>". */
  actor: string;
  /** The IONOS client, through the shared rate limiter. @throws {OpsError} without credentials */
  ionos(): Promise<IonosClient>;
  mapping(): Promise<Mapping>;
  close(): Promise<void>;
}

/**
 * Opens Redis (failing fast when it is unreachable) and the stores.
 *
 * @throws {ConfigError} for a bad environment
 * @throws {OpsError} unavailable when Redis does not answer
 */
export async function openContext(env: Record<string, string | undefined>): Promise<CliContext> {
  const config = loadConfig(env, "cli");
  const prefix = config.redisPrefix;
  const redis = createRedis(config.redis, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    // An operator command should fail in seconds, not wait for Redis forever.
    retryStrategy: (attempt) => (attempt > 3 ? null : attempt * 200),
    sentinelRetryStrategy: (attempt) => (attempt > 3 ? null : attempt * 200),
  });
  let lastError: Error | undefined;
  redis.on("error", (e: Error) => lastError = e); // reported once, below
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const why = (lastError ?? error as Error).message;
    throw new OpsError(
      "unavailable",
      `cannot reach Redis at ${describeRedis(config.redis)}: ${why}`,
    );
  }
  const queue = createSyncQueue(redis, {
    prefix: config.bullPrefix,
    attempts: config.jobAttempts,
    backoffMs: config.jobBackoffMs,
  });
  const reconcileQueue = createReconcileQueue(redis, config.bullPrefix);
  let client: IonosClient | undefined;
  let mapping: Mapping | undefined;
  return {
    config,
    redis,
    queue,
    reconcileQueue,
    store: new WantedStateStore(redis, {
      prefix,
      dedupeTtlSeconds: config.dedupeTtlSeconds,
      maxClockSkewMs: config.maxEventClockSkewMs,
    }),
    records: new SyncRecords(redis, { prefix }),
    eventLog: eventLogFor(redis, config),
    audit: new AuditLog(redis, { prefix }),
    actor: `cli:${env.USER ?? env.USERNAME ?? "unknown"}`,
    async ionos() {
      const auth = config.ionos.auth;
      if (!auth) {
        throw new OpsError(
          "invalid",
          "IONOS_TOKEN (or IONOS_USERNAME + IONOS_PASSWORD) is needed for this command",
        );
      }
      client ??= new IonosClient({
        baseUrl: config.ionos.apiUrl,
        auth,
        // The same budget as the workers: a reconcile must not starve them into 429s.
        rateLimiter: new RedisRateLimiter({
          redis,
          key: await rateLimiterKey(config.ionos.apiUrl, auth),
          requestsPerSecond: config.ionos.rateLimitPerSecond,
        }),
        maxAttempts: config.ionos.maxAttempts,
        timeoutMs: config.ionos.timeoutMs,
        requestTimeoutMs: config.ionos.requestTimeoutMs,
        ...(config.ionos.contractNumber ? { contractNumber: config.ionos.contractNumber } : {}),
      });
      return client;
    },
    async mapping() {
      mapping ??= await loadMapping(config.syncConfigPath);
      return mapping;
    },
    async close() {
      await Promise.allSettled([queue.close(), reconcileQueue.close()]);
      redis.disconnect();
    },
  };
}
