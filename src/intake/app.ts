/**
 * The HTTP intake: builds the Hono app from its parts. Knows nothing of IONOS.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { ByteBudget } from "../http/byte_budget.ts";
import { refusalLog } from "../http/refusal_log.ts";
import type { Logger } from "../log.ts";
import type { SyncJobData } from "../queue/sync_queue.ts";
import type { IonosRecords } from "../targets/ionos/records.ts";
import type { WantedStateStore } from "../store/wanted_state.ts";
import { adminAuth } from "./auth/admin_auth.ts";
import { refuseCrossSite } from "./auth/cross_site.ts";
import type { IngestDeps } from "./ingest.ts";
import { adminStatsRoute } from "./routes/admin_stats.ts";
import { eventsRoute } from "./routes/events.ts";
import { healthRoutes } from "./routes/health.ts";

export interface AppOptions {
  redis: Redis;
  queue: Queue<SyncJobData>;
  store: WantedStateStore;
  records: IonosRecords;
  logger: Logger;
  eventsToken?: string | undefined;
  webhookSecret?: string | undefined;
  adminToken?: string | undefined;
  /** @default 1 MiB */
  bodyLimitBytes?: number | undefined;
  /** Shared budget for signed bodies read before their signature is checked. */
  unauthenticatedBudget?: ByteBudget | undefined;
  /** Deadline for reading a signed body. @default 10_000 */
  bodyReadTimeoutMs?: number | undefined;
  /**
   * How events are stored and enqueued. @default store and queue of these options, with
   * `onIngested` and `eventLog`
   */
  ingest?: IngestDeps | undefined;
  onIngested?: IngestDeps["onIngested"];
  /** Logs accepted events in the enqueue's transaction. */
  eventLog?: IngestDeps["eventLog"];
  /**
   * Counts refused requests of `/events` by reason; give the same hook to `providerMounts` so
   * the provider webhooks are counted alike.
   */
  onRejected?: ((reason: string) => void) | undefined;
  readiness?: (() => Record<string, unknown>) | undefined;
  /**
   * Further routers mounted at their paths (SCIM, IdP adapters, admin API). Admin ones are
   * mounted under `/admin/api` behind the admin token.
   */
  mounts?: { path: string; app: Hono }[] | undefined;
  adminMounts?: { path: string; app: Hono }[] | undefined;
}

/**
 * @example
 * const app = createApp({ redis, queue, store, records, logger, eventsToken });
 * Deno.serve({ port: 8080 }, app.fetch);
 */
export function createApp(options: AppOptions): Hono {
  const { logger, bodyLimitBytes = 1024 * 1024 } = options;
  const app = new Hono();
  app.use("*", requestId());
  app.use("*", secureHeaders());
  // One line a minute per route for refused requests, with a count: a flood is not a log flood.
  app.use("*", refusalLog({ logger }));

  app.route("/", healthRoutes({ redis: options.redis, readiness: options.readiness }));
  // POST /events only with a credential for it: SCIM or a provider hook alone is a valid set-up.
  if (options.eventsToken || options.webhookSecret) {
    app.route(
      "/",
      eventsRoute({
        eventsToken: options.eventsToken,
        webhookSecret: options.webhookSecret,
        onRejected: options.onRejected,
        unauthenticatedBudget: options.unauthenticatedBudget,
        bodyReadTimeoutMs: options.bodyReadTimeoutMs,
        bodyLimitBytes,
        redis: options.redis,
        logger,
        ingest: options.ingest ?? {
          store: options.store,
          queue: options.queue,
          // `IngestDeps` takes these only when set (src/intake/ingest.ts).
          ...pick(options, "onIngested", "eventLog"),
        },
      }),
    );
  }
  for (const m of options.mounts ?? []) app.route(m.path, m.app);

  const admin = new Hono();
  // No state change from another site's page (CSRF); the dashboard has the same guard.
  admin.use("*", refuseCrossSite());
  admin.use("*", adminAuth(options.adminToken));
  admin.route("/", adminStatsRoute(options.queue, options.records));
  for (const m of options.adminMounts ?? []) admin.route(m.path, m.app);
  app.route("/admin/api", admin);

  app.notFound((c) => c.json({ error: "not_found", message: `no route ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    logger.error("unhandled error", { path: c.req.path, error });
    return c.json({ error: "internal", message: "internal error" }, 500);
  });
  return app;
}

/**
 * Copies only the defined keys, so optional options stay absent rather than `undefined`: for
 * `IngestDeps`, whose optional fields do not take `undefined`.
 */
function pick<T extends object, K extends keyof T>(
  o: T,
  ...keys: K[]
): { [P in K]?: Exclude<T[P], undefined> } {
  const out: { [P in K]?: Exclude<T[P], undefined> } = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k] as Exclude<T[K], undefined>;
  return out;
}
