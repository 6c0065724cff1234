/**
 * How the operations parts plug into the service, kept here so `service.ts` only spreads the
 * results: the event log and metrics hooks, the admin API, dashboard and `/metrics` routers for
 * the intake, and the metrics hooks, scheduled reconcile and metrics listener for workers.
 */
import type { Queue } from "bullmq";
import { Hono } from "hono";
import type { Redis } from "ioredis";
import type { Config } from "../config/config.ts";
import type { Mapping } from "../config/mapping.ts";
import type { AppOptions } from "../intake/app.ts";
import type { IngestDeps, IngestEventLog } from "../intake/ingest.ts";
import { adminDashboard } from "../intake/routes/admin_dashboard.ts";
import { adminOpsApi } from "../intake/routes/admin_ops.ts";
import { healthRoutes } from "../intake/routes/health.ts";
import { refusalLog } from "../http/refusal_log.ts";
import type { IonosClient, IonosClientOptions } from "../ionos/client.ts";
import type { Logger } from "../log.ts";
import { registerQueueGauges } from "../metrics/queue_gauges.ts";
import { metricsRoute } from "../metrics/route.ts";
import { SyncMetrics } from "../metrics/sync_metrics.ts";
import { IonosCallCounter, recordEventsCall, startActivityRecorder } from "../console/activity.ts";
import { CONSOLE_PATH, operatorConsole } from "../console/app.tsx";
import type { RateLimiter } from "../ionos/rate_limiter.ts";
import type { SyncJobData } from "../queue/sync_queue.ts";
import { queuedTargets, type TargetJobData } from "../queue/target_queue.ts";
import type { SyncRecords } from "../store/sync_records.ts";
import type { ApplyResult, WantedStateStore } from "../store/wanted_state.ts";
import type { TargetLinks } from "../targets/links.ts";
import { AuditLog } from "./audit_log.ts";
import { EventLog } from "./event_log.ts";
import { eventLogIngest, isolatedHooks } from "./ingest_hook.ts";
import { clockSkewWarning } from "./clock_skew_warning.ts";
import { IonosHealth } from "./ionos_health.ts";
import { reconcile } from "./reconcile/reconcile.ts";
import { targetReconciler } from "./reconcile/target_runner.ts";
import { startRetentionSweeper } from "./retention.ts";
import { createReconcileQueue, startReconcileScheduler } from "./scheduler.ts";

/** Per-process observability state, shared by the intake and workers in role `all`. */
export interface Observability {
  metrics: SyncMetrics;
  ionosHealth: IonosHealth;
  /** IONOS calls for the operator console's budget chart (src/console/activity.ts). */
  ionosCalls: IonosCallCounter;
}

export function createObservability(): Observability {
  return {
    metrics: new SyncMetrics(),
    ionosHealth: new IonosHealth(),
    ionosCalls: new IonosCallCounter(),
  };
}

/** `/metrics` for this process, behind METRICS_TOKEN when set. */
function metricsRouteFor(config: Config, obs: Observability, logger: Logger): Hono {
  return metricsRoute({
    registry: obs.metrics.registry,
    ...(config.ops.metricsToken ? { token: config.ops.metricsToken } : {}),
    logger,
  });
}

/** The event log for a configuration (reading works even when logging is off). */
export function eventLogFor(redis: Redis, config: Config): EventLog {
  return new EventLog(redis, {
    prefix: config.redisPrefix,
    maxAgeMs: config.ops.eventLogMaxAgeMs,
    maxEntries: Math.max(1, config.ops.eventLogMaxEntries),
  });
}

export interface IntakeOpsOptions {
  config: Config;
  redis: Redis;
  queue: Queue<SyncJobData>;
  store: WantedStateStore;
  records: SyncRecords;
  logger: Logger;
  obs: Observability;
  /** The twin records of the other targets the mapping lists, shown by whois (issue 11). */
  targets?: readonly TargetLinks[];
}

/** What the intake adds to `createApp` options, and how to stop it. */
export interface IntakeOps {
  app: Pick<AppOptions, "onIngested" | "eventLog" | "onRejected" | "readiness" | "adminMounts"> & {
    mounts: NonNullable<AppOptions["mounts"]>;
  };
  /** The hook to give every other ingest path (SCIM, adapters). */
  onIngested: NonNullable<AppOptions["onIngested"]>;
  /** The event log to give every other ingest path; absent when logging is off. */
  eventLog?: IngestEventLog;
  /** Writes for every ingest path's enqueue transaction (the console's count). */
  alsoInTransaction: NonNullable<IngestDeps["alsoInTransaction"]>;
  stop(): Promise<void>;
}

/**
 * @example
 * const ops = intakeOps({ config, redis, queue, store, records, logger, obs });
 * createApp({ ...base, ...ops.app, mounts: [...providerMounts, ...ops.app.mounts] });
 */
export function intakeOps(options: IntakeOpsOptions): IntakeOps {
  const { config, redis, queue, store, records, logger, obs, targets = [] } = options;
  const eventLog = eventLogFor(redis, config);
  const audit = new AuditLog(redis, { prefix: config.redisPrefix });
  const reconcileQueue = createReconcileQueue(redis, config.bullPrefix);
  reconcileQueue.on("error", (e) => logger.warn("reconcile queue error", { error: e.message }));
  const warnClockSkew = clockSkewWarning(logger);
  const countInProcess: NonNullable<IngestDeps["onIngested"]> = (events, result, context, jobs) => {
    obs.metrics.onIngested(events, result, context);
    warnClockSkew(events, result, context, jobs);
  };
  const onIngested = isolatedHooks([countInProcess], logger);
  // The console's chart counts in every ingest path's enqueue transaction (replay too): no round
  // trip of its own, and Redis is settled before the client hears.
  const alsoInTransaction = (result: ApplyResult) => [
    recordEventsCall(config.redisPrefix, result.accepted),
  ];
  // Appended in the enqueue's transaction: no round trip of its own (issue 9).
  const logIngest = config.ops.eventLogMaxEntries > 0
    ? eventLogIngest(eventLog, logger)
    : undefined;
  registerQueueGauges(obs.metrics.registry, [queue, reconcileQueue], [{
    name: "ionos_sync_event_log_entries",
    help: "Entries in the event log (read from Redis).",
    read: () => eventLog.length(),
  }]);
  const admin = adminOpsApi({
    queue,
    store,
    records,
    eventLog,
    audit,
    reconcileQueue,
    onIngested: countInProcess,
    alsoInTransaction,
    targets,
    logger,
  });
  const dashboard = adminDashboard({
    queues: [queue, reconcileQueue],
    ...(config.adminToken ? { adminToken: config.adminToken } : {}),
    readOnly: config.ops.dashboardReadOnly,
  });
  // The operator console (issue 13): pages under /admin beside the API and bull-board.
  const consolePages = operatorConsole({
    redis,
    prefix: config.redisPrefix,
    queue,
    store,
    records,
    eventLog,
    audit,
    reconcileQueue,
    // As for readiness: only a process that also runs workers knows how IONOS answers.
    ...(config.role === "all" ? { ionosHealth: () => obs.ionosHealth.report() } : {}),
    readOnly: config.ops.dashboardReadOnly,
    targets,
    logger,
    ...(config.adminToken ? { adminToken: config.adminToken } : {}),
  });
  return {
    app: {
      onIngested,
      ...(logIngest ? { eventLog: logIngest } : {}),
      onRejected: obs.metrics.onRejected,
      // Only a process that also runs workers calls IONOS; an api-only one has nothing to say.
      readiness: () => config.role === "all" ? { ionos: obs.ionosHealth.report() } : {},
      adminMounts: [{ path: "/", app: admin }],
      mounts: [
        { path: "/admin/queues", app: dashboard },
        { path: CONSOLE_PATH, app: consolePages },
        { path: "/", app: metricsRouteFor(config, obs, logger) },
      ],
    },
    onIngested,
    alsoInTransaction,
    ...(logIngest ? { eventLog: logIngest } : {}),
    stop: () => reconcileQueue.close(),
  };
}

/** The `IonosClient` hooks that feed metrics and readiness. */
export function ionosHooks(
  obs: Observability,
): Pick<IonosClientOptions, "onCall" | "onRetry" | "onRateLimitWait"> {
  return {
    onCall: (info) => {
      obs.metrics.onIonosCall(info);
      obs.ionosCalls.count();
      obs.ionosHealth.onCall(info);
    },
    onRetry: obs.metrics.onIonosRetry,
    onRateLimitWait: obs.metrics.onRateLimitWait,
  };
}

export interface WorkerOpsOptions {
  config: Config;
  redis: Redis;
  queue: Queue<SyncJobData>;
  store: WantedStateStore;
  records: SyncRecords;
  mapping: Mapping;
  ionos: IonosClient;
  logger: Logger;
  obs: Observability;
  /** The shared IONOS limiter: its rate goes to the console's budget chart. */
  rateLimiter?: RateLimiter;
  /** The other targets' queues, where their reconcile repairs go (issue 11). @default none */
  targetQueues?: readonly Queue<TargetJobData>[];
}

/**
 * Starts the reconcile worker (and its schedule when configured) and the retention sweeper.
 *
 * @returns a function that stops both
 */
export async function workerOps(options: WorkerOpsOptions): Promise<() => Promise<void>> {
  const { config, redis, queue, store, records, mapping, ionos, logger, obs } = options;
  const audit = new AuditLog(redis, { prefix: config.redisPrefix });
  // Issue 11: each other target is reconciled with its own client, onto its own queue.
  const reconcileTarget = targetReconciler({
    config,
    mapping,
    redis,
    store,
    records,
    audit,
    queues: options.targetQueues ?? [],
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
  // Personal data goes when its time is up, with or without traffic (src/ops/retention.ts).
  // Reconcile jobs are swept too: their reports name the users that drifted.
  const reconcileQueue = createReconcileQueue(redis, config.bullPrefix);
  reconcileQueue.on("error", (e) => logger.warn("reconcile queue error", { error: e.message }));
  const stopRetention = startRetentionSweeper({
    redis,
    prefix: config.redisPrefix,
    eventLog: eventLogFor(redis, config),
    auditLog: audit,
    queues: [queue, reconcileQueue],
    retentionMs: config.ops.retentionMs,
    logger,
  });
  // The limit in force: learned from IONOS answers if lower than configured (rate_limiter.ts).
  obs.ionosCalls.limitPerMinute = () =>
    (options.rateLimiter?.requestsPerSecond ?? config.ionos.rateLimitPerSecond) * 60;
  const stopActivity = startActivityRecorder({
    redis,
    calls: obs.ionosCalls,
    prefix: config.redisPrefix,
    logger,
  });
  return async () => {
    await stopActivity();
    await stopRetention();
    await reconcileQueue.close();
    await stopScheduler();
  };
}

/** What {@linkcode workerHttpApp} serves from. */
export interface WorkerHttpOptions {
  config: Config;
  redis: Redis;
  queue: Queue<SyncJobData>;
  logger: Logger;
  obs: Observability;
}

/**
 * What a worker-only process serves on its health port: `/healthz`, `/readyz` and `/metrics`.
 * The listener itself is bound early by `service.ts`, before Redis is waited for.
 */
export function workerHttpApp(options: WorkerHttpOptions): Hono {
  const { config, redis, queue, logger, obs } = options;
  registerQueueGauges(obs.metrics.registry, [queue]);
  const app = new Hono();
  // A wrong METRICS_TOKEN here is logged like any refusal of the intake: once a minute.
  app.use("*", refusalLog({ logger }));
  app.route("/", healthRoutes({ redis, readiness: () => ({ ionos: obs.ionosHealth.report() }) }));
  app.route("/", metricsRouteFor(config, obs, logger));
  return app;
}
