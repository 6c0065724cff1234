/**
 * TLS to Redis: a `rediss://` URL and `REDIS_TLS_CA_FILE` (a private CA), end to end. The test
 * Redis listens on TLS only, so nothing can have reached it in plain text. Skipped, with the
 * reason in its name, where the openssl command or a TLS-built redis-server is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { createRedis } from "../../src/store/redis_connection.ts";
import { type Harness, startHarness, userEvent } from "../_support/harness.ts";
import {
  makeTestTls,
  startRedis,
  type TestRedis,
  type TestTls,
  tlsUnavailable,
} from "../_support/redis.ts";

const skipReason = tlsUnavailable();
if (skipReason) console.warn(`Redis TLS test skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)(
  skipReason ? `Redis over TLS (skipped: ${skipReason})` : "Redis over TLS (rediss://)",
  () => {
    let tls: TestTls;
    let redis: TestRedis;
    let h: Harness;
    beforeAll(async () => {
      tls = makeTestTls();
      redis = await startRedis({ tls });
      h = await startHarness({
        redis,
        env: { REDIS_URL: redis.url, REDIS_TLS_CA_FILE: tls.caFile },
      });
    });
    afterAll(async () => {
      await h?.stop();
      tls?.stop();
    });

    it("syncs an event through a TLS-only Redis", async () => {
      expect(redis.url).toMatch(/^rediss:\/\//);
      const res = await h.postEvents({
        events: [userEvent("user.created", "tls-1", "tls.one@example.com")],
      });
      expect(res.status).toBe(202);
      await res.body?.cancel();
      const stats = await h.drain();
      expect(stats.jobs.failed).toBe(0);
      expect(h.sim.sim.state.users().map((u) => u.properties.email)).toContain(
        "tls.one@example.com",
      );
    });

    it("refuses a server whose certificate the configured CA did not sign", async () => {
      // The system's CAs do not know the test CA: without REDIS_TLS_CA_FILE there is no session.
      const config = loadConfig({ REDIS_URL: redis.url, IONOS_TOKEN: "t" }, "worker");
      const client = createRedis(config.redis, {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      const errors: string[] = [];
      client.on("error", (e: Error) => errors.push(e.message));
      await expect(client.connect().then(() => client.ping())).rejects.toThrow();
      client.disconnect();
      expect(errors.join("\n")).toMatch(/certificate|issuer|verify/i);
    });
  },
);
