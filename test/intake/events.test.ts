import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signStandardWebhook } from "../../src/intake/auth/standard_webhooks.ts";
import {
  EVENTS_TOKEN,
  type Harness,
  startHarness,
  userEvent,
  WEBHOOK_SECRET,
} from "../_support/harness.ts";

let h: Harness;
beforeAll(async () => {
  // Workers paused: these tests look at what the intake stores and enqueues.
  h = await startHarness();
  await h.service!.stop();
  h.env.IONOS_TOKEN = "sim-token";
  // Intake only, so jobs stay in the queue where the tests can count them.
  const { startService } = await import("../../src/service.ts");
  const { loadConfig } = await import("../../src/config/config.ts");
  const { DEFAULT_MAPPING } = await import("../../src/config/mapping.ts");
  const { createLogger } = await import("../../src/log.ts");
  h.service = await startService(
    loadConfig(h.env, "api"),
    DEFAULT_MAPPING,
    createLogger({ level: "debug", write: (l) => h.logs.push(l) }),
  );
  h.url = h.service.url!;
});
afterAll(async () => await h.stop());

async function waitingJobs(): Promise<number> {
  const s = await h.stats();
  return s.jobs.waiting;
}

async function signed(body: string, id: string = crypto.randomUUID(), ts?: number) {
  const timestamp = String(ts ?? Math.floor(Date.now() / 1000));
  return {
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": await signStandardWebhook(WEBHOOK_SECRET, id, timestamp, body),
  };
}

describe("POST /events", () => {
  it("accepts one event with the bearer token and enqueues one job", async () => {
    const before = await waitingJobs();
    const res = await h.postEvents(userEvent("user.created", "u-bearer", "ada@example.com"));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0 });
    expect(await waitingJobs()).toBe(before + 1);
  });

  it("counts a re-delivered event id as duplicate and changes nothing", async () => {
    const ev = userEvent("user.created", "u-dup", "dup@example.com", {}, "evt-dup-1");
    expect(await (await h.postEvents(ev)).json()).toEqual({ accepted: 1, duplicates: 0 });
    const r = h.redis.client();
    const stored = await r.get("sync:user:u-dup");
    const changed = { ...ev, data: { ...(ev.data as object), name: { givenName: "Changed" } } };
    const res = await h.postEvents(changed);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 0, duplicates: 1 });
    expect(await r.get("sync:user:u-dup")).toBe(stored);
  });

  it("accepts a batch and deduplicates inside it", async () => {
    const a = userEvent("user.created", "u-b1", "b1@example.com");
    const b = userEvent("user.created", "u-b2", "b2@example.com");
    const res = await h.postEvents({ events: [a, b, a] });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2, duplicates: 1 });
  });

  it.each([
    ["no Authorization header", {}],
    ["a wrong bearer token", { authorization: "Bearer wrong-token-wrong-token" }],
    ["a Basic header", { authorization: "Basic dXNlcjpwYXNz" }],
  ])("refuses %s with 401 and stores nothing", async (_name, headers) => {
    const before = await waitingJobs();
    const res = await fetch(`${h.url}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(userEvent("user.created", "u-unauth", "x@example.com")),
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe("unauthorized");
    expect(await waitingJobs()).toBe(before);
    expect(await h.redis.client().exists("sync:user:u-unauth")).toBe(0);
  });

  it("accepts a Standard Webhooks signature and treats a repeated webhook-id as duplicate", async () => {
    const body = JSON.stringify(userEvent("user.created", "u-sig", "sig@example.com"));
    const headers = await signed(body, "msg_abc");
    const post = () =>
      fetch(`${h.url}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    const first = await post();
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: 1, duplicates: 0 });
    const again = await post();
    expect(await again.json()).toEqual({ accepted: 0, duplicates: 1 });
  });

  it.each([
    ["a forged signature", async (body: string) => ({
      ...(await signed(body)),
      "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    })],
    ["a stale timestamp", (body: string) => signed(body, undefined, Date.now() / 1000 - 600)],
    ["a signature over another body", async () => await signed("{}")],
  ])("refuses %s", async (_name, make) => {
    const body = JSON.stringify(userEvent("user.created", "u-forged", "f@example.com"));
    const res = await fetch(`${h.url}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await make(body)) },
      body,
    });
    expect(res.status).toBe(401);
    expect(await h.redis.client().exists("sync:user:u-forged")).toBe(0);
  });

  it("names each bad field by path and rejects the whole batch", async () => {
    const good = userEvent("user.created", "u-good", "good@example.com");
    const bad = { id: "e2", type: "user.created", data: { id: "u-bad", userName: "no-email" } };
    const res = await h.postEvents({ events: [good, { id: "e3", type: "nope", data: {} }, bad] });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toBe("invalid_event");
    const paths = body.issues.map((i: { path: string }) => i.path);
    expect(paths).toContain("events.1.type");
    expect(paths).toContain("events.2.data.emails");
    expect(await h.redis.client().exists("sync:user:u-good")).toBe(0);
  });

  it.each([
    ["malformed JSON", "{not json", "application/json", 400, "invalid_json"],
    ["a text body", "hello", "text/plain", 415, "unsupported_media_type"],
    ["an empty batch", '{"events": []}', "application/json", 400, "invalid_event"],
    [
      "a batch over 1000",
      JSON.stringify({
        events: Array.from({ length: 1001 }, (_, i) => ({
          id: `e${i}`,
          type: "user.deleted",
          data: { id: `u${i}` },
        })),
      }),
      "application/json",
      400,
      "invalid_event",
    ],
    [
      "a bad time",
      JSON.stringify({ id: "t", type: "user.deleted", time: "yesterday", data: { id: "x" } }),
      "application/json",
      400,
      "invalid_event",
    ],
  ])("answers %s with the right status", async (_n, body, type, status, error) => {
    const res = await h.postEvents(body, { "content-type": type });
    expect(res.status).toBe(status);
    expect((await res.json()).error).toBe(error);
  });

  it("refuses a body that is not valid UTF-8 instead of replacing the bad bytes", async () => {
    const json = new TextEncoder().encode(
      JSON.stringify(userEvent("user.created", "u-bytes", "bytes@example.com", {}, "evt-XX")),
    );
    const at = json.indexOf("X".charCodeAt(0));
    json[at] = 0xff; // a byte that never occurs in UTF-8
    const res = await fetch(`${h.url}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${EVENTS_TOKEN}` },
      body: json,
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe("invalid_encoding");
    expect(await h.redis.client().exists("sync:user:u-bytes")).toBe(0);
  });

  it("answers 413 past the body limit", async () => {
    const res = await h.postEvents("x".repeat(1024 * 1024 + 10));
    expect(res.status).toBe(413);
  });

  it("answers 503 with Retry-After while Redis is down, and accepts again once it is back", async () => {
    await h.redis.kill();
    const ev = userEvent("user.created", "u-outage", "outage@example.com", {}, "evt-outage");
    const res = await h.postEvents(ev);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(503);
    await h.redis.restart();
    // The IdP delivers again: now it is taken, and was not counted as a duplicate before.
    let again: Response | undefined;
    for (let i = 0; i < 50; i++) {
      again = await h.postEvents(ev);
      if (again.status === 202) break;
      await again.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(again!.status).toBe(202);
    expect(await again!.json()).toEqual({ accepted: 1, duplicates: 0 });
    expect(await h.redis.client().exists("sync:user:u-outage")).toBe(1);
  });

  it("serves /healthz without auth and guards /admin/api/stats", async () => {
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.url}/admin/api/stats`)).status).toBe(401);
    const s = await h.stats();
    expect(s.jobs).toMatchObject({ active: 0, failed: 0 });
  });
});
