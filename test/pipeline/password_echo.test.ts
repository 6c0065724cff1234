/**
 * Finding 12 of issue 10, end to end: IONOS answers a user create with a FAILED request status
 * whose message echoes the request body, generated password included. Real service, real Redis,
 * the simulator behind a small HTTP proxy that turns the status into that echo. The password
 * must not reach the log, the failed job, BullMQ's event stream, the twin record (SCIM's
 * `lastError`) or anything else in Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, userEvent } from "../_support/harness.ts";

let h: Harness;
let proxy: Deno.HttpServer<Deno.NetAddr>;
const sentBodies: string[] = [];

beforeAll(async () => {
  h = await startHarness({ start: false, env: { JOB_ATTEMPTS: "1" } });
  const sim = new URL(h.sim.url);
  proxy = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.method === "GET" ? undefined : await req.text();
    if (req.method === "POST" && url.pathname.endsWith("/um/users")) {
      // IONOS took the create (202) and its request then FAILED, so nothing was applied.
      sentBodies.push(body!);
      const id = crypto.randomUUID();
      return Response.json({ id, type: "user", properties: {} }, {
        status: 202,
        headers: { location: `${url.origin}${sim.pathname}/requests/${id}/status` },
      });
    }
    if (/\/requests\/[^/]+\/status$/.test(url.pathname) && sentBodies.length) {
      return Response.json({
        id: "echo",
        type: "request-status",
        metadata: { status: "FAILED", message: `[VDC-1-1] rejected: ${sentBodies.at(-1)}` },
      });
    }
    return await fetch(`${sim.origin}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      ...(body !== undefined ? { body } : {}),
    });
  });
  h.env.IONOS_API_URL = `http://127.0.0.1:${proxy.addr.port}${sim.pathname}`;
  await h.startService();
});
afterAll(async () => {
  await h.stop();
  await proxy.shutdown();
});

/** Every value in Redis as text: strings, hashes, lists, sets, sorted sets and streams. */
async function dumpRedis(): Promise<string> {
  const r = h.redis.client();
  const parts: string[] = [];
  for (const key of await r.keys("*")) {
    const type = await r.type(key);
    const value = type === "string"
      ? await r.get(key)
      : type === "hash"
      ? await r.hgetall(key)
      : type === "list"
      ? await r.lrange(key, 0, -1)
      : type === "set"
      ? await r.smembers(key)
      : type === "zset"
      ? await r.zrange(key, "0", "-1")
      : type === "stream"
      ? await r.xrange(key, "-", "+")
      : null;
    parts.push(`${key} ${JSON.stringify(value)}`);
  }
  return parts.join("\n");
}

describe("a FAILED request status that echoes the new user's password", () => {
  it("leaves the password nowhere", async () => {
    const res = await h.postEvents(userEvent("user.created", "00u-echo", "echo.user@example.com"));
    expect(res.status).toBe(202);
    for (let i = 0; i < 300 && (await h.stats()).jobs.failed === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await h.stats()).jobs.failed).toBe(1);
    const password = JSON.parse(sentBodies[0]!).properties.password as string;
    expect(password.length).toBeGreaterThanOrEqual(16);
    const redis = await dumpRedis();
    // The echo did arrive and was stored, scrubbed: the failure is there, the password is not.
    expect(redis).toContain("[VDC-1-1] rejected");
    expect(redis).toContain("[redacted]");
    expect(redis).not.toContain(password);
    expect(redis).not.toContain(JSON.stringify(password).slice(1, -1));
    expect(h.logs.join("\n")).not.toContain(password);
  });
});
