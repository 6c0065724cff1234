/**
 * The client of each target beside IONOS, built from the configuration with its own
 * Redis-shared rate limiter: the workers (src/service/target_workers.ts) and reconcile
 * (src/ops/reconcile/target_runner.ts) build them here, so both spend one budget per target and
 * credential, whichever process makes the call.
 */
import type { Redis } from "ioredis";
import { type Config, ConfigError } from "../config/config.ts";
import { RedisRateLimiter, targetRateLimiterKey } from "./rate_limiter.ts";
import type { QueuedTarget } from "../queue/target_queue.ts";
import { CloudflareClient } from "./cloudflare/client.ts";
import { ContaboClient } from "./contabo/client.ts";

/** @throws {ConfigError} naming the settings that are missing */
function assertSettings(target: QueuedTarget, missing: readonly string[]): void {
  if (missing.length) {
    throw new ConfigError([`${target} needs ${missing.join(", ")} (not set)`]);
  }
}

/**
 * The Contabo client with its shared limiter.
 * @throws {ConfigError} when a CONTABO_* credential is not set
 */
export async function contaboClientFor(config: Config, redis: Redis): Promise<ContaboClient> {
  const c = config.contabo;
  assertSettings("contabo", c.missing);
  const limiter = new RedisRateLimiter({
    redis,
    key: await targetRateLimiterKey("contabo", `${c.apiUrl}\n${c.credentials!.apiUser}`),
    requestsPerSecond: c.rateLimitPerSecond,
  });
  return new ContaboClient({
    apiUrl: c.apiUrl,
    authUrl: c.authUrl,
    credentials: c.credentials!,
    limiter,
  });
}

/**
 * The Cloudflare client with its shared limiter.
 * @throws {ConfigError} when CLOUDFLARE_API_TOKEN or CLOUDFLARE_ACCOUNT_ID is not set
 */
export async function cloudflareClientFor(
  config: Config,
  redis: Redis,
): Promise<CloudflareClient> {
  const c = config.cloudflare;
  assertSettings("cloudflare", c.missing);
  const limiter = new RedisRateLimiter({
    redis,
    key: await targetRateLimiterKey("cloudflare", `${c.apiUrl}\n${c.accountId}\n${c.apiToken}`),
    requestsPerSecond: c.rateLimitPerSecond,
  });
  return new CloudflareClient({
    apiUrl: c.apiUrl,
    apiToken: c.apiToken!,
    accountId: c.accountId!,
    limiter,
  });
}
