/**
 * Reconcile of Contabo and Cloudflare end to end: the service with a real Redis and the three
 * simulators over HTTP. A person changes things in the clouds directly; a report run finds the
 * drift without writing anything; a fix run enqueues the targets' jobs and their workers put it
 * right; accounts the sync does not manage (the owner, a stranger) are reported and untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as cli } from "../../src/cli/main.ts";
import type { ReconcileJobResult } from "../../src/ops/queues/scheduler.ts";
import type { TargetPlanItem } from "../../src/ops/reconcile/target_plan.ts";
import {
  CLOUDFLARE_SIM_ACCOUNT,
  CLOUDFLARE_SIM_TOKEN,
} from "../../src/targets/cloudflare/simulator/app.ts";
import {
  type RunningCloudflareSimulator,
  startCloudflareSimulator,
} from "../../src/targets/cloudflare/simulator/server.ts";
import { TargetLinks } from "../../src/targets/links.ts";
import { CONTABO_SIM_CREDENTIALS } from "../../src/targets/contabo/simulator/app.ts";
import {
  type RunningContaboSimulator,
  startContaboSimulator,
} from "../../src/targets/contabo/simulator/server.ts";
import { ADMIN_TOKEN, type Harness, startHarness, userEvent } from "../_support/harness.ts";
import { csrfOf, page, post, signIn } from "../console/_helpers.ts";

const READ_ONLY = "05784afa30c1afe1440e79d9351c7430";
const PG = "c8fed203ed3043cba015a93ad1616f1f";
const RG = "6d7f2f5f5b1d4a0e9081fdc98d432fd1";
const MAPPING = `
targets: [ionos, contabo, cloudflare]
contabo:
  roles: { "ops": [101] }
cloudflare:
  memberRoles: ["${READ_ONLY}"]
  groups:
    include: ["ops"]
    policies:
      ops: [{ access: allow, permissionGroups: ["${PG}"], resourceGroups: ["${RG}"] }]
`;

let h: Harness;
let contabo: RunningContaboSimulator;
let cloudflare: RunningCloudflareSimulator;
let targetEnv: Record<string, string>;

beforeAll(async () => {
  contabo = await startContaboSimulator();
  cloudflare = await startCloudflareSimulator({ rateLimit: 0 });
  targetEnv = {
    CONTABO_API_URL: contabo.url,
    CONTABO_AUTH_URL: contabo.authUrl,
    CONTABO_CLIENT_ID: CONTABO_SIM_CREDENTIALS.clientId,
    CONTABO_CLIENT_SECRET: CONTABO_SIM_CREDENTIALS.clientSecret,
    CONTABO_API_USER: CONTABO_SIM_CREDENTIALS.apiUser,
    CONTABO_API_PASSWORD: CONTABO_SIM_CREDENTIALS.apiPassword,
    CONTABO_RATE_LIMIT_RPS: "500",
    CLOUDFLARE_API_URL: cloudflare.url,
    CLOUDFLARE_API_TOKEN: CLOUDFLARE_SIM_TOKEN,
    CLOUDFLARE_ACCOUNT_ID: CLOUDFLARE_SIM_ACCOUNT,
    CLOUDFLARE_RATE_LIMIT_RPS: "50",
  };
  h = await startHarness({ mapping: MAPPING, env: targetEnv });
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await contabo?.close();
  await cloudflare?.close();
});

/** Polls until `check` passes (it throws until then) or the time is up. */
async function eventually(check: () => void | Promise<void>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${h.url}/admin/api${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
  });

/** Starts a reconcile run through the admin API and waits for its result. */
async function runReconcile(target: string, mode: "report" | "fix"): Promise<ReconcileJobResult> {
  const res = await admin("/reconcile", { method: "POST", body: JSON.stringify({ mode, target }) });
  expect(res.status).toBe(202);
  const { jobId } = await res.json();
  let result: ReconcileJobResult | undefined;
  await eventually(async () => {
    const run = await (await admin(`/reconcile/${jobId}`)).json();
    expect(run.failedReason).toBeUndefined();
    expect(run.state).toBe("completed");
    expect(run.result).toBeDefined();
    result = run.result;
  });
  return result!;
}

const itemsOf = (r: ReconcileJobResult) => r.items as TargetPlanItem[];
const contaboUser = (email: string) =>
  [...contabo.sim.users.values()].find((u) => u.email === email);
const cfMember = (email: string) =>
  [...cloudflare.sim.members.values()].find((m) => m.email === email);
const cfGroup = (name: string) =>
  [...cloudflare.sim.userGroups.values()].find((g) => g.name === name);

describe("reconcile of Contabo and Cloudflare", () => {
  let owner: { userId: string };
  let stranger: { userId: string };
  let outsider: { id: string };

  it("starts in step: two users in ops reach both clouds; others were there by hand", async () => {
    owner = contabo.sim.addUser({ email: "boss@example.com", owner: true, admin: true });
    stranger = contabo.sim.addUser({ email: "stranger@example.com", roles: [103] });
    outsider = cloudflare.sim.addMember("outsider@example.com");
    const res = await h.postEvents({
      events: [
        userEvent("user.created", "u1", "ada.lovelace@example.com"),
        userEvent("user.created", "u2", "grace.hopper@example.com"),
        {
          id: crypto.randomUUID(),
          type: "group.created",
          data: { id: "g-ops", displayName: "ops", members: [{ value: "u1" }, { value: "u2" }] },
        },
      ],
    });
    expect(res.status).toBe(202);
    await eventually(() => {
      expect(contaboUser("ada.lovelace@example.com")?.roles).toEqual([101]);
      expect(contaboUser("grace.hopper@example.com")?.roles).toEqual([101]);
      expect(cfGroup("ops")?.members.size).toBe(2);
    });
    await h.drain();
    const report = await runReconcile("contabo", "report");
    expect(itemsOf(report).filter((i) => i.action !== "unmanaged")).toEqual([]);
  });

  it("a report run finds what a person changed in Contabo and writes nothing", async () => {
    // A person deletes Grace's user and gives Ada another role, in the control panel.
    const grace = contaboUser("grace.hopper@example.com")!;
    contabo.sim.users.delete(grace.userId);
    contaboUser("ada.lovelace@example.com")!.roles = [101, 103];
    const before = contabo.sim.calls.length;

    const report = await runReconcile("contabo", "report");
    expect(report).toMatchObject({ target: "contabo", dryRun: true, enqueuedCount: 0 });
    const items = itemsOf(report);
    expect(items).toEqual(expect.arrayContaining([
      expect.objectContaining({
        entity: "user:u2",
        action: "create",
        detail: expect.stringContaining(`Contabo user ${grace.userId} is gone`),
      }),
      expect.objectContaining({ entity: "user:u1", action: "remove-role", detail: "roles 103" }),
      expect.objectContaining({
        action: "unmanaged",
        label: "boss@example.com",
        detail: expect.stringMatching(/owner/),
      }),
      expect.objectContaining({ action: "unmanaged", label: "stranger@example.com" }),
    ]));
    expect(items.filter((i) => i.action === "unmanaged").every((i) => !i.entity)).toBe(true);
    expect(report.entities.sort()).toEqual(["user:u1", "user:u2"]);
    expect(report.counts).toMatchObject({ create: 1, "remove-role": 1, unmanaged: 2 });
    // Only reads: reconcile never writes to a target.
    expect(contabo.sim.calls.slice(before).every((c) => c.method === "GET")).toBe(true);
    expect(contaboUser("grace.hopper@example.com")).toBeUndefined();
  });

  it("a fix run enqueues the Contabo jobs; the worker puts it right; unmanaged users untouched", async () => {
    const ownerBefore = structuredClone(contabo.sim.users.get(owner.userId));
    const strangerBefore = structuredClone(contabo.sim.users.get(stranger.userId));
    const fix = await runReconcile("contabo", "fix");
    expect(fix).toMatchObject({ target: "contabo", dryRun: false, enqueuedCount: 2 });
    await eventually(() => {
      expect(contaboUser("grace.hopper@example.com")).toMatchObject({ roles: [101] });
      expect(contaboUser("ada.lovelace@example.com")?.roles).toEqual([101]);
    });
    await h.drain();
    expect(contabo.sim.users.get(owner.userId)).toEqual(ownerBefore);
    expect(contabo.sim.users.get(stranger.userId)).toEqual(strangerBefore);
    const touched = contabo.sim.calls.filter((c) =>
      c.method !== "GET" && (c.path.includes(owner.userId) || c.path.includes(stranger.userId))
    );
    expect(touched).toEqual([]);
    // In step again, but for the accounts the sync leaves alone.
    const again = await runReconcile("contabo", "report");
    expect(itemsOf(again).map((i) => i.action)).toEqual(["unmanaged", "unmanaged"]);
  });

  it("Cloudflare: a member taken out of its group by hand is reported, then added back", async () => {
    const ada = cfMember("ada.lovelace@example.com")!;
    const group = cfGroup("ops")!;
    group.members.delete(ada.id);
    const before = cloudflare.sim.calls.length;

    const report = await runReconcile("cloudflare", "report");
    expect(report).toMatchObject({ target: "cloudflare", dryRun: true });
    expect(itemsOf(report)).toEqual(expect.arrayContaining([
      expect.objectContaining({
        entity: "group:g-ops",
        action: "add-member",
        label: "ops",
        detail: "ada.lovelace@example.com",
        targetId: group.id,
      }),
      expect.objectContaining({ action: "unmanaged", label: "outsider@example.com" }),
    ]));
    expect(report.entities).toEqual(["group:g-ops"]);
    expect(cloudflare.sim.calls.slice(before).every((c) => c.method === "GET")).toBe(true);

    const fix = await runReconcile("cloudflare", "fix");
    expect(fix.enqueuedCount).toBe(1);
    await eventually(() => expect(cfGroup("ops")!.members.has(ada.id)).toBe(true));
    expect(cloudflare.sim.members.get(outsider.id)).toMatchObject({
      email: "outsider@example.com",
      status: "accepted",
    });
    expect(
      cloudflare.sim.calls.filter((c) => c.method !== "GET" && c.path.includes(outsider.id)),
    ).toEqual([]);
  });

  it("Cloudflare: an invitation whose answer was lost is the sync's own in the plan; the fix links it", async () => {
    await h.postEvents(userEvent("user.created", "u-lost", "lost@example.com"));
    await h.drain();
    const lost = cfMember("lost@example.com")!;
    const r = h.redis.client();
    try {
      // As after a 5xx on the invitation: the member was made, the link was not.
      const links = new TargetLinks(r, "cloudflare", {
        prefix: h.bullPrefix.replace(/bull$/, "") || "sync",
      });
      await links.unlink("user", "u-lost", lost.id);
      await links.markCreating("user", "u-lost", "lost@example.com");

      const report = await runReconcile("cloudflare", "report");
      expect(itemsOf(report).filter((i) => i.label === "lost@example.com")).toEqual([
        expect.objectContaining({
          entity: "user:u-lost",
          action: "adopt",
          detail: expect.stringMatching(/own create whose answer was lost/),
          targetId: lost.id,
        }),
      ]);
      await runReconcile("cloudflare", "fix");
      await eventually(async () =>
        expect(await links.get("user", "u-lost")).toMatchObject({
          targetId: lost.id,
          origin: "created",
        })
      );
      expect(cfMember("lost@example.com")).toEqual(lost);
    } finally {
      r.disconnect();
    }
  });

  it("the CLI reconciles a target with --target, through the same decisions", async () => {
    contabo.sim.users.delete(contaboUser("ada.lovelace@example.com")!.userId);
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/sync.yaml`, MAPPING);
    const out: string[] = [];
    const err: string[] = [];
    const code = await cli(
      ["reconcile", "--target", "contabo", "--dry-run", "--json"],
      { ...targetEnv, REDIS_URL: h.env.REDIS_URL!, SYNC_CONFIG: `${dir}/sync.yaml` },
      { stdout: (t) => out.push(t), stderr: (t) => err.push(t), isTTY: false },
    );
    await Deno.remove(dir, { recursive: true });
    expect(code, err.join("")).toBe(0);
    const report = JSON.parse(out.join(""));
    expect(report).toMatchObject({ target: "contabo", dryRun: true, enqueued: [] });
    expect(report.items).toEqual(expect.arrayContaining([
      expect.objectContaining({ entity: "user:u1", action: "create" }),
    ]));
    expect(report.counts.unmanaged).toBe(2);
  });

  it("a target the mapping does not list is refused; no target is IONOS as before", async () => {
    const bad = await admin("/reconcile", {
      method: "POST",
      body: JSON.stringify({ mode: "report", target: "aws" }),
    });
    expect(bad.status).toBe(400);
    const ionos = await runReconcile("ionos", "report");
    expect(ionos.scanned).toHaveProperty("ionosUsers");
    expect("target" in ionos).toBe(false);
  });

  it("the console's drift page checks a target chosen with ?target= and shows its own runs", async () => {
    const { cookie } = await signIn(h.url);
    const drift = await page(h.url, "/admin/drift?target=cloudflare", cookie);
    expect(drift.status).toBe(200);
    expect(drift.html).toContain("compares the wanted state with Cloudflare");
    expect(drift.html).toContain('name="target" value="cloudflare"');
    const started = await post(h.url, "/admin/drift/check", cookie, {
      csrf: csrfOf(drift.html),
      target: "cloudflare",
    });
    expect(started.status).toBe(303);
    expect(started.location).toMatch(/^\/admin\/drift\?target=cloudflare&flash=drift-check/);
    await eventually(async () => {
      const shown = await page(h.url, "/admin/drift?target=cloudflare", cookie);
      expect(shown.html).toContain("outsider@example.com");
    });
    // IONOS's page shows IONOS's runs only; a target not listed is refused.
    const ionos = await page(h.url, "/admin/drift", cookie);
    expect(ionos.html).not.toContain("outsider@example.com");
    expect((await page(h.url, "/admin/drift?target=aws", cookie)).status).toBe(400);
  });

  it("the drift gauge is labelled by target", async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).toMatch(/ionos_sync_reconcile_drift\{action="unmanaged",target="contabo"\} 2/);
    expect(text).toMatch(/ionos_sync_reconcile_drift\{action="unmanaged",target="cloudflare"\} 1/);
    expect(text).toMatch(/ionos_sync_reconcile_drift\{action="create",target="ionos"\} 0/);
  });
});
