/**
 * `GET /metrics` in the Prometheus text format. Open by default, as scrapers usually sit on a
 * private network; with a metrics token set it asks for `Authorization: Bearer <token>`.
 */
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import type { Logger } from "../log.ts";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "./registry.ts";

export interface MetricsRouteOptions {
  registry: Registry;
  /** When set, scrapes must send it as a bearer token. @default open */
  token?: string | undefined;
  logger?: Logger | undefined;
}

/**
 * @example
 * app.route("/", metricsRoute({ registry: metrics.registry, token: config.metricsToken }));
 */
export function metricsRoute(options: MetricsRouteOptions): Hono {
  const { registry, token, logger } = options;
  const app = new Hono();
  if (token) app.use("/metrics", bearerAuth({ token }));
  app.get("/metrics", async function scrape(c) {
    const text = await registry.render((error) =>
      logger?.warn("metrics collector failed", { error })
    );
    return c.body(text, 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}
