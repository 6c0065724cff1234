/**
 * Role `worker` (and half of `all`): every part the workers run on, built here once. Its Redis
 * waits through restarts; the sync worker, the other targets' workers, the outbox sweeper and
 * the operator parts (scheduled reconcile, retention, the console's activity) share it.
 */
import { Hono } from "hono";
import type { Config } from "../config/config.ts";
import type { Mapping } from "../config/mapping.ts";
import { startActivityRecorder } from "../console/activity.ts";
import { refusalLog } from "../http/refusal_log.ts";
import { healthRoutes } from "../intake/routes/health.ts";
import type { Logger } from "../log.ts";
import { registerQueueGauges } from "../metrics/queue_gauges.ts";
import { reconcile } from "../ops/reconcile/reconcile.ts";
import { targetReconciler } from "../ops/reconcile/target_runner.ts";
import { startRetentionSweeper } from "../ops/oplog/retention.ts";
import { startReconcileScheduler } from "../ops/queues/scheduler.ts";
import { createSyncQueue } from "../queue/sync_queue.ts";
import { attachTargetQueuesFor, queuedTargets } from "../queue/target_queue.ts";
import { OwnerBindings } from "../store/owner_bindings.ts";
import { startOutboxSweeper } from "../../workers/outbox_sweeper.ts";
import { createSyncWorker } from "../../workers/sync_worker.ts";
import { bindEarly, FORCED_CLOSE_MS, inOrder, type Stop, waitReady, within } from "./lifecycle.ts";
import { ionosHooks, metricsRouteFor, type Observability } from "./observability.ts";
import {
  auditLog,
  eventLog,
  ionosClient,
  reconcileQueue as reconcileQueueFor,
  syncQueueOptions,
  syncRecords,
  wantedStateStore,
  workerRedis,
} from "./parts.ts";
import { startTargetWorkers } from "./target_workers.ts";

/** What {@linkcode startWorkers} works with. */
export interface WorkersDeps {
  config: Config;
  mapping: Mapping;
  logger: Logger;
  obs: Observability;
  signal: AbortSignal | undefined;
  /** Where the workers put their stop, to run after the intake's (see `startService`). */
  stops: Stop[];
}

/** Starts the workers once Redis answers; role `worker` also serves health and metrics. */
export async function startWorkers(deps: WorkersDeps): Promise<void> {
  const { config, mapping, logger, obs, signal, stops } = deps;
  const queueOptions = syncQueueOptions(config);
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
  const store = wantedStateStore(redis, config, mapping);
  const records = syncRecords(redis, config);
  const { client: ionos, rateLimiter } = await ionosClient(redis, config, {
    logger,
    ...ionosHooks(obs),
  });
  const ctx = {
    store,
    records,
    emailOwners: new OwnerBindings(redis, { kind: "email", prefix: config.redisPrefix }),
    groupNameOwners: new OwnerBindings(redis, { kind: "group-name", prefix: config.redisPrefix }),
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
  // Issue 11: the other targets' queues and workers, each on its own (./target_workers.ts).
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

  // --- operations (issue 4): scheduled reconcile, retention, the console's activity ---
  const audit = auditLog(redis, config);
  // Issue 11: each other target is reconciled with its own client, onto its own queue.
  const reconcileTarget = targetReconciler({
    config,
    mapping,
    redis,
    store,
    records,
    audit,
    queues: targetQueues,
  });
  const stopScheduler = await startReconcileScheduler({
    connection: redis,
    prefix: config.bullPrefix,
    intervalMinutes: config.ops.reconcileIntervalMinutes,
    mode: config.ops.reconcileMode,
    targets: ["ionos", ...queuedTargets(mapping)],
    logger,
    run: async ({ dryRun, target }) => {
      const report = target === "ionos"
        ? await reconcile(
          { store, records, ionos, mapping, queue, audit, actor: "scheduler" },
          { dryRun },
        )
        : await reconcileTarget(target, { dryRun, actor: "scheduler" });
      obs.metrics.onReconciled(report.counts, target);
      return report;
    },
  });
  // Personal data goes when its time is up, with or without traffic (src/ops/oplog/retention.ts).
  // Reconcile jobs are swept too: their reports name the users that drifted.
  const reconcileQueue = reconcileQueueFor(redis, config, logger);
  const stopRetention = startRetentionSweeper({
    redis,
    prefix: config.redisPrefix,
    eventLog: eventLog(redis, config),
    auditLog: audit,
    queues: [queue, reconcileQueue],
    retentionMs: config.ops.retentionMs,
    logger,
  });
  // The limit in force: learned from IONOS answers if lower than configured (rate_limiter.ts).
  obs.ionosCalls.limitPerMinute = () => rateLimiter.requestsPerSecond * 60;
  const stopActivity = startActivityRecorder({
    redis,
    calls: obs.ionosCalls,
    prefix: config.redisPrefix,
    logger,
  });
  const stopOps = async () => {
    await stopActivity();
    await stopRetention();
    await reconcileQueue.close();
    await stopScheduler();
  };
  // --- end operations ---

  if (http) {
    // What a worker-only process serves on its health port (bound early, above).
    registerQueueGauges(obs.metrics.registry, [queue]);
    const app = new Hono();
    // A wrong METRICS_TOKEN here is logged like any refusal of the intake: once a minute.
    app.use("*", refusalLog({ logger }));
    app.route("/", healthRoutes({ redis, readiness: () => ({ ionos: obs.ionosHealth.report() }) }));
    app.route("/", metricsRouteFor(config, obs, logger));
    http.setHandler(app.fetch);
  }
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
