/**
 * The routers of the identity-provider integrations, for `createApp({ mounts })`: the SCIM
 * service provider at `/scim/v2` and the WorkOS and Keycloak webhooks at `/hooks/...`. Each is
 * mounted only when its credential is configured, so nothing listens unauthenticated.
 */
import type { Hono } from "hono";
import type { Redis } from "ioredis";
import type { IngestDeps } from "../intake/ingest.ts";
import type { ByteBudget } from "../http/byte_budget.ts";
import type { Logger } from "../log.ts";
import { scimApp } from "../scim/app.ts";
import { ScimStore } from "../scim/store.ts";
import type { IonosRecords } from "../targets/ionos/records.ts";
import { keycloakRoute } from "./keycloak/route.ts";
import { workosRoute } from "./workos/route.ts";

export interface ProviderMountsOptions {
  scimToken?: string | undefined;
  workosWebhookSecret?: string | undefined;
  keycloakWebhookSecret?: string | undefined;
  redis: Redis;
  /** @default "sync" */
  prefix?: string | undefined;
  records: IonosRecords;
  ingest: IngestDeps;
  logger: Logger;
  /** @default 1 MiB */
  bodyLimitBytes?: number | undefined;
  /** Shared budget for signed bodies read before their signature is checked. */
  unauthenticatedBudget?: ByteBudget | undefined;
  /** Deadline for reading a signed body. @default 10_000 */
  bodyReadTimeoutMs?: number | undefined;
  /** Counts refused webhook requests by reason, as `createApp({ onRejected })` does for `/events`. */
  onRejected?: ((reason: string) => void) | undefined;
}

/**
 * @example
 * createApp({ ..., mounts: providerMounts({ scimToken, redis, records, ingest, logger }) });
 */
export function providerMounts(options: ProviderMountsOptions): { path: string; app: Hono }[] {
  const { redis, prefix = "sync", records, ingest, logger, bodyLimitBytes = 1024 * 1024 } = options;
  const mounts: { path: string; app: Hono }[] = [];
  const enabled: string[] = [];
  if (options.scimToken) {
    const store = new ScimStore(redis, { prefix });
    mounts.push({
      path: "/scim/v2",
      app: scimApp({ token: options.scimToken, store, records, ingest, logger, bodyLimitBytes }),
    });
    enabled.push("scim");
  }
  const hooks = {
    ingest,
    redis,
    prefix,
    logger,
    bodyLimitBytes,
    unauthenticatedBudget: options.unauthenticatedBudget,
    bodyReadTimeoutMs: options.bodyReadTimeoutMs,
    onRejected: options.onRejected,
  };
  if (options.workosWebhookSecret) {
    mounts.push({ path: "/", app: workosRoute({ ...hooks, secret: options.workosWebhookSecret }) });
    enabled.push("workos");
  }
  if (options.keycloakWebhookSecret) {
    mounts.push({
      path: "/",
      app: keycloakRoute({ ...hooks, secret: options.keycloakWebhookSecret }),
    });
    enabled.push("keycloak");
  }
  logger.info("identity provider integrations", {
    enabled,
    disabled: ["scim", "workos", "keycloak"].filter((x) => !enabled.includes(x)),
  });
  return mounts;
}
