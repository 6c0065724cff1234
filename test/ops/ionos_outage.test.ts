/**
 * IONOS down for a while, then back: jobs fail, readiness and metrics show it, the operator
 * retries all failed jobs through the admin API, and the state converges. Also: pausing keeps
 * the intake accepting.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, userEvent } from "../_support/harness.ts";
import { admin, usersWithEmail, waitFor } from "../_support/admin.ts";

let h: Harness;
beforeAll(async () => {
  // One attempt per job and per IONOS call, so an outage fails jobs at once. (With two, the
  // second attempt of a job starts about 5 s after the first in the service, whatever
  // JOB_BACKOFF_MS says: too slow for this file.)
  h = await startHarness({ env: { JOB_ATTEMPTS: "1", IONOS_MAX_ATTEMPTS: "1" } });
});
afterAll(async () => await h.stop());

const EMAILS = ["ann.outage@example.com", "bob.outage@example.com", "cy.outage@example.com"];

describe("IONOS outage", () => {
  it("fails jobs while IONOS answers 503, then converges after retry all", async () => {
    h.sim.sim.setFaults({ error5xxRate: 1, status5xx: 503 });
    const res = await h.postEvents({
      events: EMAILS.map((e, i) => userEvent("user.created", `out-${i}`, e)),
    });
    expect(res.status).toBe(202);
    await waitFor("three failed jobs", async () => (await h.stats()).jobs.failed === 3);

    const failed = await admin<{ jobs: { entity: string; lastError: string; attempts: number }[] }>(
      h,
      "GET",
      "/jobs?state=failed",
    );
    expect(failed.body.jobs).toHaveLength(3);
    for (const job of failed.body.jobs) {
      expect(job.lastError).toMatch(/HTTP 503/);
      expect(job.attempts).toBe(1);
    }
    const ready = await (await fetch(`${h.url}/readyz`)).json();
    expect(ready.ionos.status).toBe("failing");
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/ionos_sync_ionos_requests_total\{[^}]*status="503"\} \d+/);
    expect(metrics).toMatch(/ionos_sync_jobs\{queue="ionos-sync",state="failed"\} 3/);
    expect(metrics).toMatch(
      /ionos_sync_job_duration_seconds_count\{kind="user",outcome="failed"\}/,
    );

    h.sim.sim.setFaults({});
    const retried = await admin<{ retried: { entity: string; replaced: string[] }[] }>(
      h,
      "POST",
      "/jobs/retry",
      { all: true },
    );
    expect(retried.status).toBe(200);
    expect(retried.body.retried.map((r) => r.entity).sort()).toEqual(
      ["user:out-0", "user:out-1", "user:out-2"],
    );
    const stats = await h.drain();
    expect(stats.jobs.failed).toBe(0);
    for (const email of EMAILS) expect(usersWithEmail(h, email)).toBe(1);
    expect((await (await fetch(`${h.url}/readyz`)).json()).ionos.status).toBe("ok");

    const audit = await admin<{ entries: { action: string; detail: { lastError: string } }[] }>(
      h,
      "GET",
      "/audit?entity=user:out-0",
    );
    expect(audit.body.entries[0]).toMatchObject({ action: "retry" });
    expect(audit.body.entries[0]!.detail.lastError).toMatch(/HTTP 503/);
  });

  it("retries only jobs matching an error text, and discards one with a reason", async () => {
    h.sim.sim.setFaults({ error5xxRate: 1, status5xx: 503 });
    await h.postEvents(userEvent("user.created", "out-d", "dee.outage@example.com"));
    await h.postEvents(userEvent("user.created", "out-e", "eve.outage@example.com"));
    await waitFor("two failed jobs", async () => (await h.stats()).jobs.failed === 2);
    h.sim.sim.setFaults({});

    const none = await admin<{ retried: unknown[] }>(h, "POST", "/jobs/retry", {
      error: "no such error text",
    });
    expect(none.body.retried).toHaveLength(0);

    const list = await admin<{ jobs: { id: string; entity: string }[] }>(
      h,
      "GET",
      "/jobs?state=failed&entity=user:out-e",
    );
    const jobId = list.body.jobs[0]!.id;
    expect((await admin(h, "POST", `/jobs/${jobId}/discard`, {})).status).toBe(400);
    const discarded = await admin(h, "POST", `/jobs/${jobId}/discard`, {
      reason: "test: user never needed",
    });
    expect(discarded.body).toEqual({ jobId, entity: "user:out-e" });
    expect((await admin(h, "POST", `/jobs/${jobId}/retry`)).status).toBe(404);

    const retried = await admin<{ retried: unknown[] }>(h, "POST", "/jobs/retry", {
      error: "HTTP 503",
    });
    expect(retried.body.retried).toHaveLength(1);
    await h.drain();
    expect(usersWithEmail(h, "dee.outage@example.com")).toBe(1);
    expect(usersWithEmail(h, "eve.outage@example.com")).toBe(0);
    const audit = await admin<{ entries: { action: string; reason?: string }[] }>(
      h,
      "GET",
      "/audit?entity=user:out-e",
    );
    expect(audit.body.entries[0]).toMatchObject({
      action: "discard",
      reason: "test: user never needed",
    });
  });

  it("keeps accepting events while paused and syncs them after resume", async () => {
    expect((await admin(h, "POST", "/queue/pause", { reason: "test" })).body).toEqual({
      paused: true,
    });
    const res = await h.postEvents(userEvent("user.created", "out-p", "pat.outage@example.com"));
    expect(res.status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    const paused = await h.stats();
    expect(paused.jobs.waiting).toBe(1);
    expect(usersWithEmail(h, "pat.outage@example.com")).toBe(0);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/ionos_sync_queue_paused\{queue="ionos-sync"\} 1/);
    expect(metrics).toMatch(/ionos_sync_queue_oldest_waiting_seconds\{queue="ionos-sync"\} 0\.\d+/);

    await admin(h, "POST", "/queue/resume");
    await h.drain();
    expect(usersWithEmail(h, "pat.outage@example.com")).toBe(1);
  });
});
