/**
 * Per-process observability: the metrics registry, IONOS health and the IONOS call counter,
 * shared by the intake and the workers in role `all`, and the hooks that feed them.
 */
import type { Hono } from "hono";
import type { Config } from "../config/config.ts";
import { IonosCallCounter } from "../console/activity.ts";
import type { IonosClientOptions } from "../targets/ionos/client.ts";
import type { Logger } from "../log.ts";
import { metricsRoute } from "../metrics/route.ts";
import { SyncMetrics } from "../metrics/sync_metrics.ts";
import { IonosHealth } from "../metrics/ionos_health.ts";

/** Per-process observability state, shared by the intake and workers in role `all`. */
export interface Observability {
  metrics: SyncMetrics;
  ionosHealth: IonosHealth;
  /** IONOS calls for the operator console's budget chart (src/console/activity.ts). */
  ionosCalls: IonosCallCounter;
}

/** A fresh registry, health and counter for one process. */
export function createObservability(): Observability {
  return {
    metrics: new SyncMetrics(),
    ionosHealth: new IonosHealth(),
    ionosCalls: new IonosCallCounter(),
  };
}

/** `/metrics` for this process, behind METRICS_TOKEN when set. */
export function metricsRouteFor(config: Config, obs: Observability, logger: Logger): Hono {
  return metricsRoute({
    registry: obs.metrics.registry,
    token: config.ops.metricsToken,
    logger,
  });
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
