/**
 * Starts the whole product for a test: a private Redis, the IONOS simulator over HTTP, and the
 * service (intake + workers) in-process, as `deno task start` would wire it.
 */
import { Queue } from "bullmq";
import { loadConfig } from "../../src/config/config.ts";
import { DEFAULT_MAPPING, type Mapping, parseMapping } from "../../src/config/mapping.ts";
import { createLogger } from "../../src/log.ts";
import { queuedTargets, targetQueueName } from "../../src/queue/target_queue.ts";
import { type Service, startService } from "../../src/service.ts";
import {
  type RunningSimulator,
  type SimulatorOptions,
  startIonosSimulator,
} from "../../src/targets/ionos/simulator/mod.ts";
import { bullPrefixFor, clusterPrefix } from "../../src/store/redis_connection.ts";
import { type StoreKeys, storeKeys } from "../../src/store/keys.ts";
import { startRedis, startRedisCluster, type TestRedis, type TestRedisCluster } from "./redis.ts";

export const EVENTS_TOKEN = "test-events-token-0123456789";
export const ADMIN_TOKEN = "test-admin-token-0123456789";
export const SCIM_TOKEN = "test-scim-token-0123456789";
// base64 of "test-webhook-secret-bytes-0123456789"
export const WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC1ieXRlcy0wMTIzNDU2Nzg5";

export interface HarnessOptions {
  mapping?: Mapping | string;
  sim?: SimulatorOptions;
  env?: Record<string, string>;
  /** Start the service? Some tests start it later. @default true */
  start?: boolean;
  /** A Redis started by the test (e.g. TLS only); stopped with the harness. @default a new one */
  redis?: TestRedis;
  /**
   * `cluster`: a local Redis Cluster of 3 primaries, the service connected with
   * `REDIS_CLUSTER_NODES` (keys then carry hash tags: use `keys` and `bullPrefix`).
   * @default "single"
   */
  backend?: RedisBackend;
}

/** Which Redis a harness runs on; `describe.each(REDIS_BACKENDS)` runs a suite on each. */
export type RedisBackend = "single" | "cluster";
export const REDIS_BACKENDS: readonly RedisBackend[] = ["single", "cluster"];

export interface Harness {
  /** On a cluster: `client()` is a Cluster client; `kill`/`restart` are not available. */
  redis: TestRedis;
  /** The store's keys, as the service names them on this backend. */
  keys: StoreKeys;
  /** BullMQ's key prefix on this backend (`bull`, `{sync}bull` on a cluster). */
  bullPrefix: string;
  sim: RunningSimulator;
  service?: Service;
  /** Intake base URL. */
  url: string;
  /** Every log line the service wrote, as parsed JSON. */
  logs: string[];
  env: Record<string, string>;
  startService(): Promise<void>;
  postEvents(body: unknown, headers?: Record<string, string>): Promise<Response>;
  stats(): Promise<StatsBody>;
  /**
   * Waits until no job is waiting, active or delayed, on the IONOS queue and on the queue of
   * every other target the mapping lists, and the outbox is empty.
   */
  drain(timeoutMs?: number): Promise<StatsBody>;
  stop(): Promise<void>;
}

export interface StatsBody {
  jobs: Record<"waiting" | "active" | "delayed" | "failed" | "completed", number>;
  managed: { users: number; groups: number };
}

/**
 * The environment a test service runs with against a test Redis and the IONOS simulator: fast
 * retries, no rate limit to speak of, a short shutdown; `extra` adds to it or overrides it.
 */
export function serviceEnv(
  redisUrl: string,
  simUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    IONOS_API_URL: simUrl,
    IONOS_TOKEN: "sim-token",
    EVENTS_TOKEN,
    JOB_BACKOFF_MS: "50",
    IONOS_RATE_LIMIT_RPS: "1000",
    SHUTDOWN_TIMEOUT_MS: "2000",
    // Scripts fail on a key outside KEYS (src/store/lua_key_guard.ts), as in-process tests do.
    SYNC_LUA_KEY_GUARD: "1",
    ...extra,
  };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const backend = options.backend ?? "single";
  const cluster: TestRedisCluster | undefined = backend === "cluster"
    ? await startRedisCluster()
    : undefined;
  const redis = options.redis ?? cluster ?? await startRedis({ appendOnly: true });
  const kind = backend === "cluster" ? "cluster" : "url";
  const sim = await startIonosSimulator({
    requestDelayMs: 2,
    rateLimitPerSecond: 0,
    ...options.sim,
  });
  const env = serviceEnv(backend === "cluster" ? "" : redis.url, sim.url, {
    ...(cluster ? { REDIS_CLUSTER_NODES: cluster.nodesList } : {}),
    ADMIN_TOKEN,
    SCIM_TOKEN,
    WEBHOOK_SECRET,
    PORT: "0",
    HOST: "127.0.0.1",
    ...options.env,
  });
  const mapping = typeof options.mapping === "string"
    ? parseMapping(options.mapping)
    : options.mapping ?? DEFAULT_MAPPING;
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", write: (line) => logs.push(line) });
  const h: Harness = {
    redis,
    keys: storeKeys(clusterPrefix({ kind }, "sync")),
    bullPrefix: bullPrefixFor({ kind }, "sync"),
    sim,
    url: "",
    logs,
    env,
    async startService() {
      h.service = await startService(loadConfig(env, "all"), mapping, logger);
      h.url = h.service.url!;
    },
    postEvents(body, headers = {}) {
      return fetch(`${h.url}/events`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${EVENTS_TOKEN}`,
          ...headers,
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    },
    async stats() {
      const res = await fetch(`${h.url}/admin/api/stats`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      return await res.json() as StatsBody;
    },
    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const probe = redis.client();
      const targetQueues = queuedTargets(mapping).map((t) =>
        new Queue(targetQueueName(t), { connection: probe, prefix: h.bullPrefix })
      );
      try {
        let quiet = 0;
        for (;;) {
          const s = await h.stats();
          const outbox = await probe.zcard(h.keys.outbox);
          let busy = s.jobs.waiting + s.jobs.active + s.jobs.delayed + outbox;
          for (const q of targetQueues) {
            const c = await q.getJobCounts("waiting", "prioritized", "active", "delayed");
            busy += Object.values(c).reduce((a, b) => a + b, 0);
          }
          // Two quiet looks in a row: a finishing job may still enqueue a follow-up.
          quiet = busy === 0 ? quiet + 1 : 0;
          if (quiet >= 2) return s;
          if (Date.now() > deadline) throw new Error(`queue did not drain: ${JSON.stringify(s)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        await Promise.all(targetQueues.map((q) => q.close()));
        probe.disconnect();
      }
    },
    async stop() {
      await h.service?.stop();
      await sim.close();
      await redis.stop();
    },
  };
  if (options.start !== false) await h.startService();
  return h;
}

/** A `user.created` event for tests. */
export function userEvent(
  type: string,
  id: string,
  email: string,
  extra: Record<string, unknown> = {},
  eventId: string = crypto.randomUUID(),
): Record<string, unknown> {
  const [given, family] = email.split("@")[0]!.split(".");
  return {
    id: eventId,
    type,
    data: {
      id,
      userName: email,
      name: { givenName: given ?? "Given", familyName: family ?? "Family" },
      emails: [{ value: email, primary: true }],
      ...extra,
    },
  };
}

/** Polls `check` every 20 ms until it holds. @throws {Error} naming `what` after `ms` */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The IONOS twin record of IdP user `id`, read on a connection of its own. */
export async function ionosUserTwin(h: Harness, id: string): Promise<Record<string, string>> {
  const r = h.redis.client();
  try {
    return await r.hgetall(`sync:ionos:user:${id}`);
  } finally {
    r.disconnect();
  }
}
