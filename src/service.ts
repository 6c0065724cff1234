/**
 * Wires the parts together for a role: the HTTP intake (`api`), the sync workers (`worker`), or
 * both (`all`), and stops them in order on shutdown.
 */
import type { Redis } from "ioredis";
import type { Hono } from "hono";
import type { Config } from "./config/config.ts";
import type { Mapping } from "./config/mapping.ts";
import { IonosClient } from "./ionos/client.ts";
import { rateLimiterKey, RedisRateLimiter } from "./ionos/rate_limiter.ts";
import { ByteBudget } from "./http/byte_budget.ts";
import { listen, type Listener } from "./http/serve.ts";
import { createApp } from "./intake/app.ts";
import { providerMounts } from "./adapters/mounts.ts";
import {
  createObservability,
  intakeOps,
  ionosHooks,
  workerHttpApp,
  workerOps,
} from "./ops/wiring.ts";
import type { Logger } from "./log.ts";
import { createSyncQueue } from "./queue/sync_queue.ts";
import { OwnerBindings } from "./store/owner_bindings.ts";
import { createRedis, type RedisSettings } from "./store/redis_connection.ts";
import { SyncRecords } from "./store/sync_records.ts";
import { WantedStateStore } from "./store/wanted_state.ts";
import { startOutboxSweeper } from "../workers/outbox_sweeper.ts";
import { createSyncWorker } from "../workers/sync_worker.ts";
import { attachTargetQueues, attachTargetQueuesFor, queuedTargets } from "./queue/target_queue.ts";
import { TargetLinks } from "./targets/links.ts";
import { startTargetWorkers } from "./targets/wiring.ts";

export interface Service {
  /** The HTTP app, when the role serves HTTP. */
  app?: Hono;
  /** Where the HTTP server listens, once started. */
  url?: string;
  /** Stops accepting requests, lets active jobs finish (bounded), closes Redis. */
  stop(): Promise<void>;
}

/** How long the intake waits for Redis before it answers 503. */
const INTAKE_REDIS_TIMEOUT_MS = 5_000;

/**
 * Redis options for the intake: fail fast when Redis is away, so callers get a 503 at once.
 *
 * @param perCommandTimeout false for the connection ingest enqueues on: ioredis' commandTimeout
 *   sets and clears a timer for every command, 105 for a request of 100 events (about 8 µs
 *   each here); ingest bounds its whole transaction with one timer instead (issue 9).
 */
function intakeRedis(settings: RedisSettings, perCommandTimeout = true): Redis {
  // WAIT for replicas (REDIS_WAIT_REPLICAS) may take its own timeout on top.
  const timeoutMs = INTAKE_REDIS_TIMEOUT_MS +
    (settings.waitReplicas > 0 ? settings.waitTimeoutMs : 0);
  return createRedis(settings, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    ...(perCommandTimeout ? { commandTimeout: timeoutMs } : {}),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
}

/** Redis for workers: wait through restarts instead of failing jobs. */
function workerRedis(settings: RedisSettings): Redis {
  return createRedis(settings, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
}

/**
 * Waits until Redis answers, or until `signal` aborts (a SIGTERM during start-up).
 * @throws {DOMException} AbortError when `signal` aborts first
 */
async function waitReady(redis: Redis, logger: Logger, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => logger.warn("waiting for Redis", { error: e.message });
    const onAbort = () => {
      redis.off("error", onError);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    redis.on("error", onError);
    redis.once("ready", () => {
      signal?.removeEventListener("abort", onAbort);
      redis.off("error", onError);
      redis.on("error", (e: Error) => logger.warn("redis error", { error: e.message }));
      resolve();
    });
  });
}

type Stop = () => Promise<void> | void;

/** How long a forced worker close, or a queue's close, may take at shutdown. */
const FORCED_CLOSE_MS = 2_000;

/** Waits for `promise`, or `ms`; "timeout" when the time ran out first. */
async function within(promise: Promise<unknown>, ms: number): Promise<"done" | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), ms);
  });
  const settled = promise.then(() => "done" as const);
  // Failing after the time ran out is no longer the caller's concern (nor an unhandled rejection).
  settled.catch(() => {});
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function inOrder(stops: Stop[]): Promise<void> {
  for (const s of stops) await s();
}

/** Options of {@linkcode startService}. */
export interface StartOptions {
  /** Aborting it (a signal during start-up) stops waiting, undoes what started, and rejects. */
  signal?: AbortSignal;
}

/** Binds PORT at once, so /healthz answers while Redis is still being waited for. */
function bindEarly(port: number, config: Config, logger: Logger): Listener {
  const http = listen({
    port,
    hostname: config.host,
    logger,
    headerTimeoutMs: config.headerTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
  });
  logger.info("listening", { bound: `${config.host}:${http.port}`, url: http.url });
  return http;
}

/**
 * Starts the service for `config.role`.
 *
 * @example
 * const service = await startService(loadConfig(Deno.env.toObject(), "all"), mapping, logger);
 * Deno.addSignalListener("SIGTERM", () => service.stop());
 */
export async function startService(
  config: Config,
  mapping: Mapping,
  logger: Logger,
  options: StartOptions = {},
): Promise<Service> {
  const stops: Stop[] = [];
  try {
    return await startParts(config, mapping, logger, options.signal, stops);
  } catch (error) {
    // Undo what did start (listener, Redis clients), newest first, then report the failure.
    for (const s of [...stops].reverse()) await Promise.resolve(s()).catch(() => {});
    throw error;
  }
}

async function startParts(
  config: Config,
  mapping: Mapping,
  logger: Logger,
  signal: AbortSignal | undefined,
  stops: Stop[],
): Promise<Service> {
  const prefix = config.redisPrefix;
  const queueOptions = {
    prefix: config.bullPrefix,
    attempts: config.jobAttempts,
    backoffMs: config.jobBackoffMs,
    tracing: config.tracing,
  };
  let app: Hono | undefined;
  let url: string | undefined;
  // Event log, metrics, admin API, dashboard, scheduled reconcile (issue 4): see src/ops/wiring.ts.
  const obs = createObservability();

  if (config.role !== "worker") {
    const http = bindEarly(config.port, config, logger);
    const redis = intakeRedis(config.redis);
    const ingestRedis = intakeRedis(config.redis, false);
    // Run in this order: no new requests, then the parts, then Redis.
    const intakeStops: Stop[] = [
      () => http.shutdown(),
      () => redis.disconnect(),
      () => ingestRedis.disconnect(),
    ];
    stops.push(() => inOrder(intakeStops));
    await waitReady(redis, logger, signal);
    await waitReady(ingestRedis, logger, signal);
    const queue = createSyncQueue(redis, queueOptions);
    queue.on("error", (e) => logger.warn("queue error", { error: e.message }));
    // Issue 11: every enqueue also goes to the other targets the mapping lists.
    const targetQueues = attachTargetQueuesFor(queue, redis, mapping, queueOptions);
    // The queue every ingest path enqueues on; the other (admin, metrics, dashboard) reads.
    const ingestQueue = createSyncQueue(ingestRedis, queueOptions);
    ingestQueue.on("error", (e) => logger.warn("queue error", { error: e.message }));
    // Issue 11: every enqueue also goes to the other targets the mapping lists, from either queue.
    attachTargetQueues(ingestQueue, targetQueues);
    const store = new WantedStateStore(redis, {
      prefix,
      dedupeTtlSeconds: config.dedupeTtlSeconds,
      maxClockSkewMs: config.maxEventClockSkewMs,
      administrators: mapping.administrators,
      replicaAcks: { replicas: config.redis.waitReplicas, timeoutMs: config.redis.waitTimeoutMs },
    });
    const records = new SyncRecords(redis, { prefix });
    const ops = intakeOps({
      config,
      redis,
      queue,
      store,
      records,
      logger,
      obs,
      targets: queuedTargets(mapping).map((t) => new TargetLinks(redis, t, { prefix })),
    });
    // One budget for the whole process: every signature route reads from it.
    const unauthenticatedBudget = new ByteBudget(config.unauthenticatedBytes);
    const ingest = {
      store,
      queue: ingestQueue,
      enqueueTimeoutMs: INTAKE_REDIS_TIMEOUT_MS,
      onIngested: ops.onIngested,
      alsoInTransaction: ops.alsoInTransaction,
      ...(ops.eventLog ? { eventLog: ops.eventLog } : {}),
    };
    app = createApp({
      redis,
      queue,
      ingest,
      store,
      records,
      logger,
      bodyLimitBytes: config.bodyLimitBytes,
      unauthenticatedBudget,
      bodyReadTimeoutMs: config.bodyReadTimeoutMs,
      ...(config.eventsToken ? { eventsToken: config.eventsToken } : {}),
      ...(config.webhookSecret ? { webhookSecret: config.webhookSecret } : {}),
      ...(config.adminToken ? { adminToken: config.adminToken } : {}),
      ...ops.app,
      // --- identity provider integrations (issue 3): SCIM, WorkOS and Keycloak webhooks ---
      mounts: [
        ...providerMounts({
          scimToken: config.scimToken,
          workosWebhookSecret: config.workosWebhookSecret,
          keycloakWebhookSecret: config.keycloakWebhookSecret,
          redis,
          prefix,
          records,
          ingest,
          logger,
          bodyLimitBytes: config.bodyLimitBytes,
          unauthenticatedBudget,
          bodyReadTimeoutMs: config.bodyReadTimeoutMs,
          // Refused webhooks are counted like refused `/events` requests.
          ...(ops.app.onRejected ? { onRejected: ops.app.onRejected } : {}),
        }),
        ...ops.app.mounts,
      ],
      // --- end identity provider integrations ---
    });
    http.setHandler(app.fetch);
    url = http.url;
    logger.info("intake listening", { url });
    intakeStops.splice(1, 0, async () => {
      // Each close bounded: BullMQ's close can wait for ever for a connection's 'end'
      // (taskforcesh/bullmq#4656, seen here on a Redis Cluster); Redis is closed under it next.
      await within(ops.stop(), FORCED_CLOSE_MS);
      await within(queue.close(), FORCED_CLOSE_MS);
      for (const q of targetQueues) await within(q.close(), FORCED_CLOSE_MS);
      await within(ingestQueue.close(), FORCED_CLOSE_MS);
    });
  }

  if (config.role !== "api") {
    const auth = config.ionos.auth!;
    // Role worker: /healthz, /readyz and /metrics on METRICS_PORT (or PORT, see config.ts).
    const http = config.role === "worker" && config.ops.metricsPort !== undefined
      ? bindEarly(config.ops.metricsPort, config, logger)
      : undefined;
    if (http) logger.info("worker metrics listening", { port: http.port, url: http.url });
    const redis = workerRedis(config.redis);
    // Run in this order: the listener, then the workers, then Redis.
    const workerStops: Stop[] = [() => http?.shutdown(), () => redis.disconnect()];
    stops.unshift(() => inOrder(workerStops));
    await waitReady(redis, logger, signal);
    const queue = createSyncQueue(redis, queueOptions);
    // Without a listener BullMQ prints connection errors (a failover, a restart) to the console.
    queue.on("error", (e) => logger.warn("queue error", { error: e.message }));
    const store = new WantedStateStore(redis, { prefix });
    const records = new SyncRecords(redis, { prefix });
    const rateLimiter = new RedisRateLimiter({
      redis,
      key: await rateLimiterKey(config.ionos.apiUrl, auth),
      requestsPerSecond: config.ionos.rateLimitPerSecond,
    });
    const ionos = new IonosClient({
      baseUrl: config.ionos.apiUrl,
      auth,
      rateLimiter,
      maxAttempts: config.ionos.maxAttempts,
      timeoutMs: config.ionos.timeoutMs,
      requestTimeoutMs: config.ionos.requestTimeoutMs,
      logger,
      ...(config.ionos.contractNumber ? { contractNumber: config.ionos.contractNumber } : {}),
      ...ionosHooks(obs),
    });
    const ctx = {
      store,
      records,
      emailOwners: new OwnerBindings(redis, { kind: "email", prefix }),
      groupNameOwners: new OwnerBindings(redis, { kind: "group-name", prefix }),
      mapping,
      ionos,
      queue,
      logger,
    };
    const worker = createSyncWorker(ctx, {
      connection: redis,
      prefix: config.bullPrefix,
      concurrency: config.workerConcurrency,
      lockDurationMs: config.workerLockDurationMs,
      stalledIntervalMs: config.workerStalledIntervalMs,
      tracing: config.tracing,
      onJobDone: obs.metrics.onJobDone,
      onConflict: (kind) => obs.metrics.syncConflicts.inc({ kind }),
    });
    // Issue 11: the other targets' queues and workers, each on its own (src/targets/wiring.ts).
    const targetQueues = attachTargetQueuesFor(queue, redis, mapping, queueOptions);
    const targetWorkers = await startTargetWorkers({
      config,
      mapping,
      redis,
      store,
      queues: targetQueues,
      logger,
      onJobDone: (target, kind, outcome, ms) =>
        obs.metrics.targetJobDuration.observe({ target, kind, outcome }, ms / 1000),
    });
    const stopSweeper = startOutboxSweeper(store, queue, logger);
    const stopOps = await workerOps({
      config,
      redis,
      queue,
      store,
      records,
      mapping,
      ionos,
      logger,
      obs,
      rateLimiter,
      targetQueues,
    });
    if (http) http.setHandler(workerHttpApp({ config, redis, queue, logger, obs }).fetch);
    logger.info("workers started", { concurrency: config.workerConcurrency });
    workerStops.splice(1, 0, async () => {
      stopSweeper();
      // The reconcile queue and worker, bounded like the sync worker below (bullmq#4656). A
      // reconcile cut short runs again from the start: it is planned anew each time.
      if (await within(stopOps(), config.shutdownTimeoutMs) === "timeout") {
        logger.warn("reconcile and ops did not stop in time", {
          timeoutMs: config.shutdownTimeoutMs,
        });
      }
      // Let active jobs finish, but not forever: a stuck IONOS call must not block a deploy.
      const all = [worker, ...targetWorkers];
      if (
        await within(Promise.all(all.map((w) => w.close())), config.shutdownTimeoutMs) === "timeout"
      ) {
        logger.warn("active jobs did not finish in time; they will be retried", {
          timeoutMs: config.shutdownTimeoutMs,
        });
        // BullMQ answers a second close() with the first one's promise, so the force may not
        // help: its close can wait for ever for a connection's 'end' (taskforcesh/bullmq#4656;
        // seen here on a Redis Cluster). Bounded too, then Redis is closed under it.
        if (
          await within(Promise.all(all.map((w) => w.close(true))), FORCED_CLOSE_MS) === "timeout"
        ) {
          logger.warn("the worker did not close; closing its Redis connection", {
            timeoutMs: FORCED_CLOSE_MS,
          });
        }
      }
      await within(queue.close(), FORCED_CLOSE_MS);
      for (const q of targetQueues) await within(q.close(), FORCED_CLOSE_MS);
    });
  }

  let stopping: Promise<void> | undefined;
  return {
    ...(app ? { app } : {}),
    ...(url ? { url } : {}),
    stop() {
      stopping ??= (async () => {
        // HTTP first (no new work), then workers, then Redis.
        for (const s of [...stops].reverse()) await s();
      })();
      return stopping;
    },
  };
}
