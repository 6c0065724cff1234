/** `POST /hooks/keycloak`: Keycloak admin events from the p2-inc keycloak-events webhook. */
import type { Hono } from "hono";
import { webhookRoute, type WebhookRouteOptions } from "../webhook_route.ts";
import { mapKeycloakEvent } from "./map.ts";
import { verifyKeycloakSignature } from "./signature.ts";

export type KeycloakRouteOptions =
  & Omit<WebhookRouteOptions, "source" | "path" | "verify" | "map">
  & {
    /** The webhook's shared secret (KEYCLOAK_WEBHOOK_SECRET). */
    secret: string;
  };

/**
 * @throws {Error} when `secret` is empty: an unsigned endpoint would accept anyone's events
 * @example
 * app.route("/", keycloakRoute({ secret, ingest, redis, logger }));
 */
export function keycloakRoute(options: KeycloakRouteOptions): Hono {
  const { secret, ...rest } = options;
  if (!secret) throw new Error("keycloakRoute needs a secret");
  return webhookRoute({
    ...rest,
    source: "keycloak",
    path: "/hooks/keycloak",
    verify: (headers, body) =>
      verifyKeycloakSignature(secret, headers.get("x-keycloak-signature") ?? undefined, body),
    map: mapKeycloakEvent,
  });
}
