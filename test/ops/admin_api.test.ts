/**
 * The admin surface: the API, its OpenAPI document and the bull-board dashboard refuse requests
 * without the admin token; `/metrics` is open unless a metrics token is set, and a worker-only
 * process serves its own metrics when METRICS_PORT is set.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { DEFAULT_MAPPING } from "../../src/config/mapping.ts";
import { adminDashboard } from "../../src/intake/routes/admin_dashboard.ts";
import { createLogger } from "../../src/log.ts";
import { Registry } from "../../src/metrics/registry.ts";
import { metricsRoute } from "../../src/metrics/route.ts";
import { createSyncQueue } from "../../src/queue/sync_queue.ts";
import { startService } from "../../src/service.ts";
import { ADMIN_TOKEN, type Harness, startHarness, userEvent } from "../_support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => await h.stop());

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${h.url}${path}`, { headers });
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
const basic = (password: string) => ({ authorization: `Basic ${btoa(`admin:${password}`)}` });

describe("admin API", () => {
  it.each([
    ["/admin/api/jobs"],
    ["/admin/api/status"],
    ["/admin/api/openapi.json"],
    ["/admin/api/whois/someone@example.com"],
  ])("refuses %s without the admin token or with a wrong one", async (path) => {
    const none = await get(path);
    expect(none.status).toBe(401);
    await none.body?.cancel();
    const wrong = await get(path, { authorization: "Bearer not-the-admin-token-000" });
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();
  });

  it("refuses writes without the token", async () => {
    for (
      const path of ["/admin/api/queue/pause", "/admin/api/jobs/retry", "/admin/api/reconcile"]
    ) {
      const res = await fetch(`${h.url}${path}`, { method: "POST", body: "{}" });
      expect(res.status).toBe(401);
      await res.body?.cancel();
    }
    expect((await h.stats()).jobs.waiting).toBe(0);
  });

  it("serves an OpenAPI document generated from the schemas", async () => {
    const res = await get("/admin/api/openapi.json", bearer);
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.servers).toEqual([{ url: "/admin/api" }]);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      "/status",
      "/stats",
      "/jobs",
      "/jobs/{id}",
      "/jobs/retry",
      "/jobs/{id}/retry",
      "/jobs/{id}/discard",
      "/events",
      "/events/replay",
      "/queue/pause",
      "/queue/resume",
      "/reconcile",
      "/reconcile/{id}",
      "/whois/{query}",
      "/audit",
    ]));
    expect(doc.components.schemas.JobSummary.properties.lastError).toBeDefined();
    expect(doc.paths["/jobs"].get.parameters.map((p: { name: string }) => p.name))
      .toEqual(expect.arrayContaining(["state", "entity", "error", "limit"]));
  });

  it("answers a bad query with 400 naming the field", async () => {
    const res = await get("/admin/api/jobs?state=bogus", bearer);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
  });

  it("answers whois for an unknown email with 404 and for a known one with the report", async () => {
    expect((await get("/admin/api/whois/ghost@example.com", bearer)).status).toBe(404);
    await h.postEvents(userEvent("user.created", "adm-1", "ada.admin@example.com"));
    await h.drain();
    const res = await get("/admin/api/whois/ada.admin@example.com", bearer);
    const body = await res.json();
    expect(body).toMatchObject({
      entity: "user:adm-1",
      wanted: { email: "ada.admin@example.com", active: true },
      twin: { state: "synced", origin: "created" },
    });
    expect(body.events[0]).toMatchObject({ type: "user.created", source: "events" });
    expect(body.jobs[0]).toMatchObject({ state: "completed", result: "created" });
  });
});

describe("dashboard", () => {
  it("asks browsers for credentials and refuses a wrong password", async () => {
    const none = await get("/admin/queues");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic /);
    await none.body?.cancel();
    const wrong = await get("/admin/queues", basic("wrong-password-0000000"));
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();
    const api = await fetch(`${h.url}/admin/queues/api/queues/ionos-sync/pause`, { method: "PUT" });
    expect(api.status).toBe(401);
    await api.body?.cancel();
  });

  it("serves the page, its static assets and its API with the admin token", async () => {
    const page = await get("/admin/queues", basic(ADMIN_TOKEN));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<base href="/admin/queues/"');
    const script = /src="(static\/[^"]+\.js)"/.exec(html)![1];
    const asset = await get(`/admin/queues/${script}`, bearer);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    await asset.body?.cancel();
    expect((await get(`/admin/queues/${script}`)).status).toBe(401);

    const queues = await (await get("/admin/queues/api/queues", bearer)).json();
    const names = queues.queues.map((q: { name: string }) => q.name);
    expect(names).toEqual(expect.arrayContaining(["ionos-sync", "ionos-reconcile"]));
    expect(queues.queues[0].readOnlyMode).toBe(false);
  });

  it("has a read-only mode", async () => {
    const queue = createSyncQueue(h.redis.client());
    const app = adminDashboard({ queues: [queue], adminToken: ADMIN_TOKEN, readOnly: true });
    // The router is mounted at /admin/queues by the service; here it is called directly.
    const res = await app.request("/api/queues", { headers: bearer });
    const body = await res.json();
    expect(body.queues[0]).toMatchObject({ name: "ionos-sync", readOnlyMode: true });
    await queue.close();
  });
});

describe("metrics", () => {
  it("serves Prometheus text without a token by default", async () => {
    await fetch(`${h.url}/events`, { method: "POST", body: "{}" }); // refused: no credentials
    await h.postEvents(userEvent("user.created", "met-1", "mel.metrics@example.com"));
    await h.drain();
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(
      /ionos_sync_events_received_total\{source="events",type="user.created"\} \d+/,
    );
    expect(text).toMatch(/ionos_sync_intake_rejections_total\{reason="unauthorized"\} 1/);
    expect(text).toMatch(/ionos_sync_jobs\{queue="ionos-sync",state="completed"\} \d+/);
    expect(text).toMatch(
      /ionos_sync_ionos_requests_total\{method="POST",route="\/um\/users",status="202"\}/,
    );
    expect(text).toMatch(
      /ionos_sync_job_duration_seconds_bucket\{kind="user",outcome="completed",le="\+Inf"\}/,
    );
    expect(text).toMatch(/ionos_sync_event_log_entries \d+/);
    expect(text).toMatch(/# TYPE ionos_sync_job_duration_seconds histogram/);
    const ready = await (await get("/readyz")).json();
    expect(ready.ionos).toMatchObject({ status: "ok" });
  });

  it("counts a refused /events request like a refused /hooks/workos one", async () => {
    // A service of its own, so the counts start at nothing and the other tests' refusals stay out.
    const hooks = await startHarness({
      env: { WORKOS_WEBHOOK_SECRET: "workos-secret-0123456789" },
    });
    try {
      const rejections = async (): Promise<Record<string, number>> => {
        const text = await (await fetch(`${hooks.url}/metrics`)).text();
        const counts = text.matchAll(
          /^ionos_sync_intake_rejections_total\{reason="(\w+)"\} (\d+)$/gm,
        );
        return Object.fromEntries([...counts].map(([, reason, n]) => [reason, Number(n)]));
      };
      const post = async (path: string, headers: Record<string, string>, body: string) => {
        const res = await fetch(`${hooks.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body,
        });
        await res.body?.cancel();
        return res.status;
      };
      const event = JSON.stringify(userEvent("user.created", "met-2", "rex.refused@example.com"));
      const forged = { "workos-signature": `t=${Date.now()}, v1=${"0".repeat(64)}` };
      const tooLarge = "x".repeat(1024 * 1024 + 1);

      expect(await rejections()).toEqual({});
      expect(await post("/events", { authorization: "Bearer not-the-events-token" }, event))
        .toBe(401);
      expect(await rejections()).toEqual({ unauthorized: 1 });
      expect(await post("/hooks/workos", forged, event)).toBe(401);
      expect(await rejections()).toEqual({ unauthorized: 2 });

      expect(await post("/events", {}, tooLarge)).toBe(413);
      expect(await rejections()).toEqual({ unauthorized: 2, too_large: 1 });
      expect(await post("/hooks/workos", forged, tooLarge)).toBe(413);
      expect(await rejections()).toEqual({ unauthorized: 2, too_large: 2 });
      expect((await hooks.stats()).jobs.waiting).toBe(0);
    } finally {
      await hooks.stop();
    }
  });

  it("asks for the metrics token when one is set", async () => {
    const app = metricsRoute({ registry: new Registry(), token: "metrics-token-0123456789" });
    expect((await app.request("/metrics")).status).toBe(401);
    const ok = await app.request("/metrics", {
      headers: { authorization: "Bearer metrics-token-0123456789" },
    });
    expect(ok.status).toBe(200);
  });

  it("is served by a worker-only process on METRICS_PORT", async () => {
    const lines: string[] = [];
    const worker = await startService(
      loadConfig({ ...h.env, METRICS_PORT: "0" }, "worker"),
      DEFAULT_MAPPING,
      createLogger({ level: "info", write: (l) => lines.push(l) }),
    );
    try {
      const port = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "worker metrics listening")
        ?.port;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/ionos_sync_jobs\{queue="ionos-sync",state="waiting"\} \d+/);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      await ready.body?.cancel();
    } finally {
      await worker.stop();
    }
  });
});
