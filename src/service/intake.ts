/**
 * Role `api` (and half of `all`): every part the HTTP intake runs on, built here once. Its
 * Redis fails fast (a 503 at once), every ingest path enqueues on one queue and one event log,
 * and the operator parts (admin API, bull-board, console, `/metrics`) read beside it.
 */
import type { Hono } from "hono";
import type { Config } from "../config/config.ts";
import type { Mapping } from "../config/mapping.ts";
import { providerMounts } from "../adapters/mounts.ts";
import { recordEventsCall } from "../console/activity.ts";
import { CONSOLE_PATH, operatorConsole } from "../console/app.tsx";
import { ByteBudget } from "../http/byte_budget.ts";
import { createApp } from "../intake/app.ts";
import type { IngestDeps } from "../intake/ingest.ts";
import { adminDashboard } from "../intake/routes/admin_dashboard.ts";
import { adminOpsApi } from "../intake/routes/admin_ops.ts";
import type { Logger } from "../log.ts";
import { registerQueueGauges } from "../metrics/queue_gauges.ts";
import { clockSkewWarning } from "../ops/oplog/clock_skew_warning.ts";
import { eventLogIngest, isolatedHooks } from "../ops/oplog/ingest_hook.ts";
import { createSyncQueue } from "../queue/sync_queue.ts";
import { attachTargetQueuesFor, queuedTargets } from "../queue/target_queue.ts";
import type { ApplyResult } from "../store/wanted_state.ts";
import { TargetLinks } from "../targets/links.ts";
import { bindEarly, FORCED_CLOSE_MS, inOrder, type Stop, waitReady, within } from "./lifecycle.ts";
import { metricsRouteFor, type Observability } from "./observability.ts";
import {
  auditLog,
  eventLog as eventLogFor,
  INTAKE_REDIS_TIMEOUT_MS,
  intakeRedis,
  reconcileQueue as reconcileQueueFor,
  syncQueueOptions,
  syncRecords,
  wantedStateStore,
} from "./parts.ts";

/** What {@linkcode startIntake} works with. */
export interface IntakeDeps {
  config: Config;
  mapping: Mapping;
  logger: Logger;
  obs: Observability;
  signal: AbortSignal | undefined;
  /** Where the intake puts its stop, to run after the workers' (see `startService`). */
  stops: Stop[];
}

/** Starts the intake: binds PORT at once, serves once Redis answers. */
export async function startIntake(deps: IntakeDeps): Promise<{ app: Hono; url: string }> {
  const { config, mapping, logger, obs, signal, stops } = deps;
  const queueOptions = syncQueueOptions(config);
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
  const store = wantedStateStore(redis, config, mapping);
  const records = syncRecords(redis, config);
  // The twin records of the other targets the mapping lists, shown by whois (issue 11).
  const targets = queuedTargets(mapping).map((t) =>
    new TargetLinks(redis, t, { prefix: config.redisPrefix })
  );

  // --- operations (issue 4): event log, audit, reconcile on demand, metrics ---
  const eventLog = eventLogFor(redis, config);
  const audit = auditLog(redis, config);
  const reconcileQueue = reconcileQueueFor(redis, config, logger);
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
    adminToken: config.adminToken,
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
    adminToken: config.adminToken,
  });
  // --- end operations ---

  // One budget for the whole process: every signature route reads from it.
  const unauthenticatedBudget = new ByteBudget(config.unauthenticatedBytes);
  const ingest = {
    store,
    queue,
    // Ingest transactions go on their own connection: no per-command timer (one timer bounds the
    // transaction), and no BullMQ scripts defined on it to copy into each MULTI.
    transactionConnection: ingestRedis,
    enqueueTimeoutMs: INTAKE_REDIS_TIMEOUT_MS,
    onIngested,
    alsoInTransaction,
    eventLog: logIngest,
  };
  const app = createApp({
    redis,
    queue,
    ingest,
    store,
    records,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    unauthenticatedBudget,
    bodyReadTimeoutMs: config.bodyReadTimeoutMs,
    eventsToken: config.eventsToken,
    webhookSecret: config.webhookSecret,
    adminToken: config.adminToken,
    onIngested,
    eventLog: logIngest,
    onRejected: obs.metrics.onRejected,
    // Only a process that also runs workers calls IONOS; an api-only one has nothing to say.
    readiness: () => config.role === "all" ? { ionos: obs.ionosHealth.report() } : {},
    adminMounts: [{ path: "/", app: admin }],
    // --- identity provider integrations (issue 3): SCIM, WorkOS and Keycloak webhooks ---
    mounts: [
      ...providerMounts({
        scimToken: config.scimToken,
        workosWebhookSecret: config.workosWebhookSecret,
        keycloakWebhookSecret: config.keycloakWebhookSecret,
        redis,
        prefix: config.redisPrefix,
        records,
        ingest,
        logger,
        bodyLimitBytes: config.bodyLimitBytes,
        unauthenticatedBudget,
        bodyReadTimeoutMs: config.bodyReadTimeoutMs,
        // Refused webhooks are counted like refused `/events` requests.
        onRejected: obs.metrics.onRejected,
      }),
      // --- end identity provider integrations ---
      { path: "/admin/queues", app: dashboard },
      { path: CONSOLE_PATH, app: consolePages },
      { path: "/", app: metricsRouteFor(config, obs, logger) },
    ],
  });
  http.setHandler(app.fetch);
  logger.info("intake listening", { url: http.url });
  intakeStops.splice(1, 0, async () => {
    // Each close bounded: BullMQ's close can wait for ever for a connection's 'end'
    // (taskforcesh/bullmq#4656, seen here on a Redis Cluster); Redis is closed under it next.
    await within(reconcileQueue.close(), FORCED_CLOSE_MS);
    await within(queue.close(), FORCED_CLOSE_MS);
    for (const q of targetQueues) await within(q.close(), FORCED_CLOSE_MS);
  });
  return { app, url: http.url };
}
