/**
 * The SCIM app in-process over a private Redis, with the wanted-state store and queue behind it
 * (no workers), and a small client that speaks SCIM to it.
 */
import { Hono } from "hono";
import { Redis } from "ioredis";
import type { Queue } from "bullmq";
import { silentLogger } from "../../src/log.ts";
import { createSyncQueue, type SyncJobData } from "../../src/queue/sync_queue.ts";
import { scimApp } from "../../src/scim/app.ts";
import { ScimStore } from "../../src/scim/store.ts";
import { IonosRecords } from "../../src/targets/ionos/records.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

export const TOKEN = "scim-test-token-0123456789";

export interface ScimResponse {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

export interface ScimTestContext {
  redis: TestRedis;
  /** The client the app uses: fails fast when Redis is down, like the service's intake. */
  client: Redis;
  queue: Queue<SyncJobData>;
  wanted: WantedStateStore;
  records: IonosRecords;
  store: ScimStore;
  app: Hono;
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ScimResponse>;
  stop(): Promise<void>;
}

export async function startScim(options: { bodyLimitBytes?: number } = {}): Promise<
  ScimTestContext
> {
  const redis = await startRedis();
  const client = new Redis(redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 100,
  });
  client.on("error", () => {});
  await new Promise<void>((resolve) => client.once("ready", () => resolve()));
  const queue = createSyncQueue(client);
  queue.on("error", () => {});
  const wanted = new WantedStateStore(client);
  const records = new IonosRecords(client);
  const store = new ScimStore(client);
  const app = new Hono();
  app.route(
    "/scim/v2",
    scimApp({
      token: TOKEN,
      store,
      records,
      ingest: { store: wanted, queue },
      logger: silentLogger,
      ...options,
    }),
  );
  return {
    redis,
    client,
    queue,
    wanted,
    records,
    store,
    app,
    async request(method, path, body, headers = {}) {
      const res = await app.request(`http://scim.test/scim/v2${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body !== undefined ? { "content-type": "application/scim+json" } : {}),
          ...headers,
        },
        ...(body !== undefined
          ? { body: typeof body === "string" ? body : JSON.stringify(body) }
          : {}),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      await queue.close();
      client.disconnect();
      await redis.stop();
    },
  };
}

/** A SCIM user body as Okta and Entra send it. */
export function scimUser(email: string, extra: Record<string, unknown> = {}) {
  const [given = "Given", family = "Family"] = email.split("@")[0]!.split(".");
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: email,
    name: { givenName: given, familyName: family },
    emails: [{ primary: true, value: email, type: "work" }],
    active: true,
    ...extra,
  };
}
