/** The webhook adapters in-process over a private Redis, with the wanted state behind them. */
import { Hono } from "hono";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { keycloakRoute } from "../../src/adapters/keycloak/route.ts";
import { workosRoute } from "../../src/adapters/workos/route.ts";
import { silentLogger } from "../../src/log.ts";
import { createSyncQueue, type SyncJobData } from "../../src/queue/sync_queue.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

export const WORKOS_SECRET = "workos-test-secret-0123456789";
export const KEYCLOAK_SECRET = "keycloak-test-secret-0123456789";

export interface HooksTestContext {
  redis: TestRedis;
  client: Redis;
  wanted: WantedStateStore;
  queue: Queue<SyncJobData>;
  app: Hono;
  /** The fake clock the WorkOS timestamp check uses (ms). */
  now: { ms: number };
  post(path: string, body: string, headers: Record<string, string>): Promise<{
    status: number;
    // deno-lint-ignore no-explicit-any
    body: any;
  }>;
  stop(): Promise<void>;
}

export async function startHooks(): Promise<HooksTestContext> {
  const redis = await startRedis();
  const client = redis.client();
  const wanted = new WantedStateStore(client);
  const queue = createSyncQueue(client);
  const now = { ms: Date.now() };
  const common = { ingest: { store: wanted, queue }, redis: client, logger: silentLogger };
  const app = new Hono()
    .route("/", workosRoute({ ...common, secret: WORKOS_SECRET, now: () => now.ms }))
    .route("/", keycloakRoute({ ...common, secret: KEYCLOAK_SECRET }));
  return {
    redis,
    client,
    wanted,
    queue,
    app,
    now,
    async post(path, body, headers) {
      const res = await app.request(`http://hooks.test${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      return { status: res.status, body: await res.json() };
    },
    async stop() {
      await queue.close();
      await redis.stop();
    },
  };
}
