/** `POST /hooks/workos`: WorkOS Directory Sync webhooks. */
import type { Hono } from "hono";
import { webhookRoute, type WebhookRouteOptions } from "../webhook_route.ts";
import { mapWorkosEvent } from "./map.ts";
import { verifyWorkosSignature } from "./signature.ts";

export type WorkosRouteOptions =
  & Omit<WebhookRouteOptions, "source" | "path" | "verify" | "map">
  & {
    /** The endpoint's secret from the WorkOS dashboard (WORKOS_WEBHOOK_SECRET). */
    secret: string;
    /** Clock in ms for the timestamp check; injectable for tests. @default Date.now */
    now?: () => number;
  };

/**
 * @throws {Error} when `secret` is empty: an unsigned endpoint would accept anyone's events
 * @example
 * app.route("/", workosRoute({ secret, ingest, redis, logger }));
 */
export function workosRoute(options: WorkosRouteOptions): Hono {
  const { secret, now = Date.now, ...rest } = options;
  if (!secret) throw new Error("workosRoute needs a secret");
  return webhookRoute({
    ...rest,
    source: "workos",
    path: "/hooks/workos",
    verify: (headers, body) =>
      verifyWorkosSignature(secret, headers.get("workos-signature") ?? undefined, body, now()),
    map: mapWorkosEvent,
  });
}
