/**
 * The operator console in a real browser: Debian's Chromium driven by playwright-core (which
 * never downloads a browser of its own). Each page must load without console errors; search
 * finds a user created through `/events`; a job that failed for real (the simulator answers
 * 503) is retried from the page; drift is found and fixed from the page; sign-in and sign-out
 * work; without the cookie the pages are refused; read-only mode hides every mutation.
 * Screenshots go to test/console/screenshots/ (git-ignored).
 *
 * Without /usr/bin/chromium (`apt-get install chromium`) the suite reports itself skipped.
 */
import { existsSync, mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { loadConfig } from "../../src/config/config.ts";
import { DEFAULT_MAPPING } from "../../src/config/mapping.ts";
import { createLogger } from "../../src/log.ts";
import { type Service, startService } from "../../src/service.ts";
import { ADMIN_TOKEN, type Harness, startHarness, userEvent } from "../_support/harness.ts";
import { admin, waitFor } from "../_support/admin.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = new URL("./screenshots/", import.meta.url).pathname;
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `console browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`,
  );
}

describe.skipIf(!hasChromium)("operator console in Chromium", () => {
  let h: Harness;
  let readOnly: Service;
  let browser: Browser;
  let context: BrowserContext;
  /** Console errors and uncaught page errors, per page URL. */
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await startHarness({
      // A limit the calls below use a visible share of, for the budget chart.
      env: { JOB_ATTEMPTS: "2", IONOS_MAX_ATTEMPTS: "1", IONOS_RATE_LIMIT_RPS: "20" },
    });
    readOnly = await startService(
      loadConfig({ ...h.env, ADMIN_DASHBOARD_READONLY: "true" }, "api"),
      DEFAULT_MAPPING,
      createLogger({ level: "error", write: () => {} }),
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox"],
    });
    context = await newContext();
  });
  afterAll(async () => {
    await browser?.close();
    await readOnly?.stop();
    await h?.stop();
  });

  async function newContext(
    viewport = { width: 1100, height: 900 },
  ): Promise<BrowserContext> {
    const ctx = await browser.newContext({ viewport });
    ctx.on("page", (p) => watch(p));
    return ctx;
  }

  function watch(p: Page): void {
    p.on("console", (m) => {
      if (m.type() === "error") problems.push(`${p.url()}: ${m.text()}`);
    });
    p.on("pageerror", (e) => problems.push(`${p.url()}: ${e.message}`));
  }

  async function signInOn(p: Page, baseUrl: string): Promise<void> {
    await p.goto(`${baseUrl}/admin`);
    expect(new URL(p.url()).pathname).toBe("/admin/sign-in");
    await p.fill("#token", ADMIN_TOKEN);
    await p.click("button[type=submit]");
    await p.waitForURL(`${baseUrl}/admin`);
  }

  /** A user whose IONOS create fails for real: the simulator answers 503 to user writes. */
  async function failedUser(id: string, email: string): Promise<string> {
    h.sim.sim.setFaults({
      error5xxRate: 1,
      status5xx: 503,
      writesOnly: true,
      pathPrefix: "/um/users",
    });
    try {
      expect((await h.postEvents(userEvent("user.created", id, email))).status).toBe(202);
      const job = await waitFor("the job to fail", async () => {
        const { body } = await admin<{ jobs: { id: string }[] }>(
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

  it("refuses the pages without the session cookie", async () => {
    const p = await context.newPage();
    for (const path of ["/admin", "/admin/failures", "/admin/accounts?q=x", "/admin/drift"]) {
      const res = await p.goto(`${h.url}${path}`);
      expect(new URL(p.url()).pathname).toBe("/admin/sign-in");
      expect(res?.status()).toBe(200); // the sign-in form, after a 303
      await expect(p.locator("#token").count()).resolves.toBe(1);
      expect(await p.content()).not.toContain("failed jobs");
    }
    const post = await context.request.post(`${h.url}/admin/queue/pause`, {
      form: { csrf: "anything" },
      maxRedirects: 0,
    });
    expect(post.status()).toBe(401);
    expect((await admin<{ queuePaused: boolean }>(h, "GET", "/status")).body.queuePaused).toBe(
      false,
    );
    await p.close();
  });

  it("signs in with the admin token and keeps only an HttpOnly, SameSite=Strict cookie", async () => {
    const p = await context.newPage();
    await p.goto(`${h.url}/admin`);
    await p.fill("#token", "not-the-admin-token-00000");
    await p.click("button[type=submit]");
    await expect(p.getByRole("alert").textContent()).resolves.toContain("not the admin token");
    // The refused form answers 401, which Chromium reports as a failed load: that one is meant.
    expect(problems).toEqual([expect.stringMatching(/sign-in: .* 401 \(Unauthorized\)$/)]);
    problems.length = 0;
    await p.fill("#token", ADMIN_TOKEN);
    await p.click("button[type=submit]");
    await p.waitForURL(`${h.url}/admin`);
    await expect(p.locator("h1").textContent()).resolves.toBe("Overview");
    const cookies = await context.cookies(`${h.url}/admin`);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({
      name: "ionos_sync_console",
      httpOnly: true,
      sameSite: "Strict",
      path: "/admin",
    });
    expect(cookies[0]!.expires).toBeGreaterThan(Date.now() / 1000);
    expect(cookies[0]!.value).not.toContain(ADMIN_TOKEN);
    await p.close();
  });

  it("finds a user created through /events and shows the account's timeline", async () => {
    expect(
      (await h.postEvents(userEvent("user.created", "br-alice", "alice.browser@example.com")))
        .status,
    ).toBe(202);
    await h.postEvents(
      userEvent("user.updated", "br-alice", "alice.browser@example.com", {
        name: { givenName: "Alice", familyName: "Browser-Smith" },
      }),
    );
    await h.drain();
    const p = await context.newPage();
    await p.goto(`${h.url}/admin/accounts`);
    await p.fill("input[name=q]", "alice.brow");
    await p.click("form[role=search] button");
    const row = p.locator("table[data-testid=accounts] tbody tr");
    await expect(row.count()).resolves.toBe(1);
    const text = await row.first().textContent();
    expect(text).toContain("alice.browser@example.com");
    expect(text).toContain("synced");
    await row.first().locator("a").click();
    await p.waitForURL(/\/admin\/accounts\/user%3Abr-alice$/);
    const timeline = p.locator("[data-testid=timeline]");
    await expect(timeline.textContent()).resolves.toMatch(/user\.created/);
    await expect(timeline.textContent()).resolves.toMatch(/user\.updated/);
    await expect(timeline.locator("li.job").count()).resolves.toBeGreaterThanOrEqual(1);
    await expect(p.locator("[data-testid=twin]").textContent()).resolves.toContain("synced");
    await p.screenshot({ path: `${SHOTS}account.png`, fullPage: true });
    await p.close();
  });

  it("retries a failed job from the account page and the account gets synced", async () => {
    const jobId = await failedUser("br-bob", "bob.failing@example.com");
    const p = await context.newPage();
    await p.goto(`${h.url}/admin/failures`);
    const failedRow = p.locator(`[data-testid=failed-${jobId}]`);
    await expect(failedRow.textContent()).resolves.toContain("503");
    await failedRow.locator("a").click();
    await p.waitForURL(/\/admin\/accounts\/user%3Abr-bob$/);
    await p.screenshot({ path: `${SHOTS}account-failed.png`, fullPage: true });
    await p.locator(`[data-testid=job-${jobId}] button`, { hasText: "Retry" }).click();
    await expect(p.locator(".flash").textContent()).resolves.toMatch(/Retry queued as job/);
    await h.drain();
    await waitFor("bob to be synced", async () => {
      await p.reload();
      return (await p.locator("[data-testid=twin]").textContent())?.includes("synced");
    });
    const timeline = await p.locator("[data-testid=timeline]").textContent();
    expect(timeline).toMatch(/Operator retry by console \(session/);
    expect(h.sim.sim.state.userByEmail("bob.failing@example.com")).toBeDefined();
    await expect(p.locator(`[data-testid=job-${jobId}]`).count()).resolves.toBe(0); // replaced
    await p.close();
  });

  it("finds drift with a dry run and applies the plan from the drift page", async () => {
    const twin = await admin<{ twin: { ionosId: string } }>(h, "GET", "/whois/user:br-alice");
    // Someone edits the user in the IONOS console, outside the sync.
    h.sim.sim.state.updateUser(twin.body.twin.ionosId, { lastname: "Edited-By-Hand" });
    const p = await context.newPage();
    await p.goto(`${h.url}/admin/drift`);
    await p.click("text=Check for drift now");
    await waitFor("the dry run's plan", async () => {
      await p.goto(`${h.url}/admin/drift`);
      return await p.locator("table[data-testid=plan-items]").count();
    });
    const plan = await p.locator("table[data-testid=plan-items]").textContent();
    expect(plan).toContain("alice.browser@example.com");
    expect(plan).toContain("Edited-By-Hand");
    await p.screenshot({ path: `${SHOTS}drift.png`, fullPage: true });
    await p.click("text=Apply the plan");
    await expect(p.locator(".flash").textContent()).resolves.toMatch(/Fix started/);
    await waitFor("IONOS to be fixed", async () => {
      await h.drain();
      return h.sim.sim.state.user(twin.body.twin.ionosId)?.properties.lastname ===
        "Browser-Smith";
    });
    await p.close();
  });

  it("hides every mutation in read-only mode", async () => {
    await failedUser("br-carol", "carol.readonly@example.com");
    const ro = await newContext();
    const p = await ro.newPage();
    await signInOn(p, readOnly.url!);
    for (
      const path of ["/admin", "/admin/failures", "/admin/drift", "/admin/accounts/user%3Abr-carol"]
    ) {
      await p.goto(`${readOnly.url}${path}`);
      await expect(p.locator("header .badge").textContent()).resolves.toBe("read-only");
      const buttons = await p.locator("main button").allTextContents();
      expect(buttons, path).toEqual([]);
    }
    await expect(p.locator("[data-testid=timeline]").textContent()).resolves.toContain("failed");
    await ro.close();
    expect(problems).toEqual([]);
  });

  it("shows the overview with counts and the budget chart, also on a phone", async () => {
    const p = await context.newPage();
    // The activity recorder writes every 10 s: wait for the calls made above to show.
    await waitFor("the budget chart to have bars", async () => {
      await p.goto(`${h.url}/admin`);
      return await p.locator("[data-testid=budget-chart] rect").count();
    }, 30_000);
    await expect(p.locator("[data-testid=count-users] .n").textContent()).resolves.toMatch(
      /^[1-9]/,
    );
    await expect(p.locator("[data-testid=intake-chart] rect").count()).resolves
      .toBeGreaterThan(0);
    // carol's create (read-only test) was the last IONOS call, and it failed: health says so,
    // and her job is still failed, counted in red and listed.
    await expect(p.locator("[data-testid=ionos-health]").textContent()).resolves.toMatch(
      /^failing .* last failure: 503 on POST \/um\/users/,
    );
    await expect(p.locator("[data-testid=count-failed].bad .n").textContent()).resolves.toBe("1");
    await expect(p.locator("main table").textContent()).resolves.toContain("user:br-carol");
    await p.screenshot({ path: `${SHOTS}overview.png`, fullPage: true });
    await p.close();

    const phone = await newContext({ width: 390, height: 844 });
    await phone.addCookies(await context.cookies(`${h.url}/admin`));
    const small = await phone.newPage();
    for (const path of ["/admin", "/admin/accounts/user%3Abr-bob"]) {
      await small.goto(`${h.url}${path}`);
      expect(new URL(small.url()).pathname).not.toBe("/admin/sign-in");
      // Readable on a phone: nothing wider than the screen but the tables' own scroll boxes.
      // A string: this runs in the page, and the test's type check has no DOM library.
      const overflow = await small.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      ) as number;
      expect(overflow).toBeLessThanOrEqual(0);
    }
    await small.goto(`${h.url}/admin`);
    await small.screenshot({ path: `${SHOTS}overview-phone.png`, fullPage: true });
    await phone.close();
  });

  it("loads every page without console errors", async () => {
    const p = await context.newPage();
    for (
      const path of [
        "/admin",
        "/admin/accounts",
        "/admin/accounts?q=example.com",
        "/admin/accounts/user%3Abr-alice",
        "/admin/drift",
        "/admin/failures",
        "/admin/sign-in",
      ]
    ) {
      const res = await p.goto(`${h.url}${path}`);
      expect(res?.status(), path).toBe(200);
      await p.screenshot({
        path: `${SHOTS}page-${path.replace(/[^a-z0-9]+/gi, "_")}.png`,
        fullPage: true,
      });
    }
    await p.close();
    expect(problems).toEqual([]);
  });

  it("signs out: the cookie goes and the pages are refused again", async () => {
    const p = await context.newPage();
    await p.goto(`${h.url}/admin`);
    await p.click("text=Sign out");
    await p.waitForURL(/\/admin\/sign-in\?flash=signed-out$/);
    await expect(p.locator(".flash").textContent()).resolves.toBe("Signed out.");
    expect(await context.cookies(`${h.url}/admin`)).toEqual([]);
    await p.goto(`${h.url}/admin/failures`);
    expect(new URL(p.url()).pathname).toBe("/admin/sign-in");
    await p.close();
    expect(problems).toEqual([]);
  });
});
