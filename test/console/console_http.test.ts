/**
 * The operator console over plain HTTP against the whole product (Redis, simulator, service):
 * the session cookie's attributes, refusals without a session, CSRF, read-only mode, and that
 * a discard's reason lands in the audit log. The browser tests (console_browser.test.ts) drive
 * the same pages through Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { DEFAULT_MAPPING } from "../../src/config/mapping.ts";
import { createLogger } from "../../src/log.ts";
import { AuditLog } from "../../src/ops/oplog/audit_log.ts";
import { type Service, startService } from "../../src/service.ts";
import { ADMIN_TOKEN, type Harness, startHarness, userEvent } from "../_support/harness.ts";
import { admin, waitFor } from "../_support/admin.ts";
import { csrfOf, page, post, signIn } from "./_helpers.ts";

let h: Harness;
let readOnly: Service;
beforeAll(async () => {
  h = await startHarness({ env: { JOB_ATTEMPTS: "2", IONOS_MAX_ATTEMPTS: "1" } });
  // A second intake on the same Redis, read-only, as a deployment with the flag would run.
  readOnly = await startService(
    loadConfig({ ...h.env, ADMIN_DASHBOARD_READONLY: "true" }, "api"),
    DEFAULT_MAPPING,
    createLogger({ level: "error", write: () => {} }),
  );
});
afterAll(async () => {
  await readOnly?.stop();
  await h?.stop();
});

/** Creates a user whose sync fails for real (IONOS answers 503 to every user write). */
async function failedJobFor(id: string, email: string): Promise<string> {
  h.sim.sim.setFaults({
    error5xxRate: 1,
    status5xx: 503,
    writesOnly: true,
    pathPrefix: "/um/users",
  });
  try {
    expect((await h.postEvents(userEvent("user.created", id, email))).status).toBe(202);
    const job = await waitFor("the job to fail", async () => {
      const { body } = await admin<{ jobs: { id: string; entity: string }[] }>(
        h,
        "GET",
        `/jobs?state=failed&entity=user:${id}`,
      );
      return body.jobs[0];
    });
    return job.id;
  } finally {
    h.sim.sim.setFaults({});
  }
}

const PAGES = [
  "/admin",
  "/admin/accounts",
  "/admin/accounts/nobody%40example.com",
  "/admin/drift",
  "/admin/failures",
];

describe("sign-in", () => {
  it("refuses a wrong token and sets no cookie", async () => {
    const { res, cookie } = await signIn(h.url, "not-the-admin-token-00000");
    expect(res.status).toBe(401);
    expect(cookie).toBeUndefined();
  });

  it("sets an HttpOnly, SameSite=Strict session cookie with an expiry, not holding the token", async () => {
    const { res, setCookie, cookie } = await signIn(h.url);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/failures");
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\/admin/);
    expect(setCookie).toMatch(/Max-Age=\d+/);
    expect(setCookie).toMatch(/Expires=/);
    expect(setCookie).not.toMatch(/Secure/i); // plain http here
    const value = cookie!.split("=")[1]!;
    expect(value).not.toContain(ADMIN_TOKEN);
    // Redis keeps a hash of the id, never the id (the cookie) itself, nor the token.
    const probe = h.redis.client();
    try {
      const keys = await probe.keys("sync:console:session:*");
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) {
        expect(k).not.toContain(value);
        const stored = await probe.get(k);
        expect(stored).not.toContain(ADMIN_TOKEN);
        expect(stored).not.toContain(value);
      }
    } finally {
      probe.disconnect();
    }
  });

  it("marks the cookie Secure behind TLS (X-Forwarded-Proto: https)", async () => {
    const { setCookie } = await signIn(h.url, ADMIN_TOKEN, { "x-forwarded-proto": "https" });
    expect(setCookie).toMatch(/;\s*Secure/i);
  });

  it("refuses a sign-in posted from another site", async () => {
    const { res, cookie } = await signIn(h.url, ADMIN_TOKEN, { "sec-fetch-site": "cross-site" });
    expect(res.status).toBe(403);
    expect(cookie).toBeUndefined();
  });
});

describe("without a session", () => {
  it.each(PAGES)("sends GET %s to the sign-in form and shows nothing", async (path) => {
    for (const cookie of [undefined, "ionos_sync_console=forged-session-id"]) {
      const res = await page(h.url, path, cookie);
      expect(res.status).toBe(303);
      expect(res.location).toMatch(/^\/admin\/sign-in\?next=/);
      expect(res.html).not.toContain("failed jobs");
    }
  });

  it("refuses a retry post and leaves the job failed", async () => {
    const jobId = await failedJobFor("nosess-1", "no.session@example.com");
    const res = await post(h.url, `/admin/jobs/${jobId}/retry`, undefined, { csrf: "x" });
    expect(res.status).toBe(401);
    const { body } = await admin<{ state: string }>(h, "GET", `/jobs/${jobId}`);
    expect(body.state).toBe("failed");
  });

  it("keeps the admin API on its bearer token: a console cookie does not open it", async () => {
    const { cookie } = await signIn(h.url);
    const res = await fetch(`${h.url}/admin/api/status`, { headers: { cookie: cookie! } });
    expect(res.status).toBe(401);
    await res.body?.cancel();
    expect((await admin(h, "GET", "/status")).status).toBe(200);
  });
});

describe("signed in", () => {
  it.each(PAGES)("serves %s", async (path) => {
    const { cookie } = await signIn(h.url);
    const res = await page(h.url, path, cookie);
    if (path.endsWith("example.com")) {
      expect(res.status).toBe(404); // whois finds nothing: a page saying so
      expect(res.html).toContain("no user or group matches");
    } else {
      expect(res.status).toBe(200);
      expect(res.html).toContain('<meta name="viewport"');
      expect(res.html).toContain('href="/admin/queues"'); // bull-board stays, linked
    }
  });

  it("refuses a form post without the session's CSRF token, or from another site", async () => {
    const jobId = await failedJobFor("csrf-1", "csrf.one@example.com");
    const { cookie } = await signIn(h.url);
    const noToken = await post(h.url, `/admin/jobs/${jobId}/retry`, cookie, {});
    expect(noToken.status).toBe(403);
    const csrf = csrfOf((await page(h.url, "/admin/failures", cookie)).html);
    const crossSite = await post(h.url, `/admin/jobs/${jobId}/retry`, cookie, { csrf }, {
      "sec-fetch-site": "cross-site",
    });
    expect(crossSite.status).toBe(403);
    const otherSession = await signIn(h.url);
    const wrongSession = await post(h.url, `/admin/jobs/${jobId}/retry`, otherSession.cookie, {
      csrf,
    });
    expect(wrongSession.status).toBe(403);
    expect((await admin<{ state: string }>(h, "GET", `/jobs/${jobId}`)).body.state).toBe("failed");
  });

  it("discards a failed job only with a reason, and logs the reason in the audit log", async () => {
    const jobId = await failedJobFor("discard-1", "discard.one@example.com");
    const { cookie } = await signIn(h.url);
    const csrf = csrfOf((await page(h.url, "/admin/failures", cookie)).html);
    const noReason = await post(h.url, `/admin/jobs/${jobId}/discard`, cookie, {
      csrf,
      reason: "  ",
    });
    expect(noReason.status).toBe(400);
    expect(noReason.text).toContain("a reason is required");
    const done = await post(h.url, `/admin/jobs/${jobId}/discard`, cookie, {
      csrf,
      reason: "user left before the first sync",
    });
    expect(done.status).toBe(303);
    expect(done.location).toBe(`/admin/failures?flash=discarded&arg=${jobId}`);
    expect((await admin(h, "GET", `/jobs/${jobId}`)).status).toBe(404);
    const probe = h.redis.client();
    try {
      const [entry] = await new AuditLog(probe).list({ jobId });
      expect(entry).toMatchObject({
        action: "discard",
        entity: "user:discard-1",
        reason: "user left before the first sync",
      });
      expect(entry!.actor).toMatch(/^console \(session [\w-]{8}\)$/);
      expect(String(entry!.detail?.lastError)).toContain("503");
    } finally {
      probe.disconnect();
    }
  });

  it("signs out: the cookie is cleared and the old session is refused", async () => {
    const { cookie } = await signIn(h.url);
    const csrf = csrfOf((await page(h.url, "/admin", cookie)).html);
    const out = await post(h.url, "/admin/sign-out", cookie, { csrf });
    expect(out.status).toBe(303);
    expect(out.location).toBe("/admin/sign-in?flash=signed-out");
    const again = await page(h.url, "/admin", cookie);
    expect(again.status).toBe(303);
    expect(again.location).toMatch(/^\/admin\/sign-in/);
  });
});

describe("hardening", () => {
  it("sends a no-script Content-Security-Policy on console pages only", async () => {
    const { cookie } = await signIn(h.url);
    for (const path of ["/admin", "/admin/sign-in", "/admin/failures"]) {
      const res = await fetch(`${h.url}${path}`, { headers: { cookie: cookie! } });
      await res.body?.cancel();
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain("script-src");
    }
    const api = await fetch(`${h.url}/admin/api/status`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    await api.body?.cancel();
    expect(api.status).toBe(200);
    expect(api.headers.get("content-security-policy")).toBeNull();
  });

  it("reads no large form body, not even at sign-in", async () => {
    const res = await fetch(`${h.url}/admin/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${"a".repeat(64 * 1024)}`,
    });
    await res.body?.cancel();
    expect(res.status).toBe(413);
  });
});

describe("read-only (ADMIN_DASHBOARD_READONLY=true)", () => {
  it("shows no button that changes anything and refuses such posts", async () => {
    const jobId = await failedJobFor("ro-1", "read.only@example.com");
    const { cookie } = await signIn(readOnly.url!);
    for (const path of ["/admin", "/admin/failures", "/admin/drift", "/admin/accounts/user:ro-1"]) {
      const { status, html } = await page(readOnly.url!, path, cookie);
      expect(status).toBe(200);
      expect(html).toContain("read-only");
      // The only form left is sign-out.
      const actions = [...html.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]);
      expect(actions).toEqual(["/admin/sign-out"]);
    }
    const csrf = csrfOf((await page(readOnly.url!, "/admin/failures", cookie)).html);
    for (const path of [`/admin/jobs/${jobId}/retry`, "/admin/queue/pause", "/admin/drift/apply"]) {
      expect((await post(readOnly.url!, path, cookie, { csrf })).status).toBe(403);
    }
    expect((await admin<{ state: string }>(h, "GET", `/jobs/${jobId}`)).body.state).toBe("failed");
    expect((await admin<{ queuePaused: boolean }>(h, "GET", "/status")).body.queuePaused).toBe(
      false,
    );
  });
});
