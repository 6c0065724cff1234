/**
 * End to end: one IdP change goes to IONOS, Contabo and Cloudflare, each through its own queue
 * and worker, against the three simulators over HTTP and a real Redis (test/_support/harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as cli } from "../../src/cli/main.ts";
import { ADMIN_TOKEN, type Harness, startHarness, userEvent } from "../_support/harness.ts";
import { CONTABO_SIM_CREDENTIALS } from "../../src/targets/contabo/simulator/app.ts";
import {
  type RunningContaboSimulator,
  startContaboSimulator,
} from "../../src/targets/contabo/simulator/server.ts";
import {
  CLOUDFLARE_SIM_ACCOUNT,
  CLOUDFLARE_SIM_TOKEN,
} from "../../src/targets/cloudflare/simulator/app.ts";
import {
  type RunningCloudflareSimulator,
  startCloudflareSimulator,
} from "../../src/targets/cloudflare/simulator/server.ts";

const READ_ONLY = "05784afa30c1afe1440e79d9351c7430";
const PG = "c8fed203ed3043cba015a93ad1616f1f";
const RG = "6d7f2f5f5b1d4a0e9081fdc98d432fd1";
const MAPPING = `
targets: [ionos, contabo, cloudflare]
administrators: ["admins"]
contabo:
  roles: { "ops": [101], "admins": [102] }
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

beforeAll(async () => {
  contabo = await startContaboSimulator();
  cloudflare = await startCloudflareSimulator({ rateLimit: 0 });
  h = await startHarness({
    mapping: MAPPING,
    env: {
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
      CLOUDFLARE_RATE_LIMIT_RPS: "4",
    },
  });
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await contabo?.close();
  await cloudflare?.close();
});

async function send(...events: unknown[]) {
  const res = await h.postEvents(events.length === 1 ? events[0] : { events });
  expect(res.status).toBe(202);
}

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

/** The operator CLI with only Redis and the mapping file, as an operator's shell has. */
async function operator(args: string[]) {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/sync.yaml`, MAPPING);
  const out: string[] = [];
  const err: string[] = [];
  const code = await cli(args, { REDIS_URL: h.env.REDIS_URL!, SYNC_CONFIG: `${dir}/sync.yaml` }, {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    isTTY: false,
  });
  await Deno.remove(dir, { recursive: true });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const contaboUser = (email: string) =>
  [...contabo.sim.users.values()].find((u) => u.email === email);
const cfMember = (email: string) =>
  [...cloudflare.sim.members.values()].find((m) => m.email === email);
const cfGroup = (name: string) =>
  [...cloudflare.sim.userGroups.values()].find((g) => g.name === name);

describe("fan-out to Contabo and Cloudflare", () => {
  it("a new user in a group reaches all three clouds, with roles, invitation and group", async () => {
    await send(
      userEvent("user.created", "u1", "ada.lovelace@example.com"),
      {
        id: crypto.randomUUID(),
        type: "group.created",
        data: { id: "g-ops", displayName: "ops", members: [{ value: "u1" }] },
      },
    );
    await eventually(() => {
      expect(h.sim.sim.state.userByEmail("ada.lovelace@example.com")).toBeDefined();
      expect(contaboUser("ada.lovelace@example.com")).toMatchObject({
        enabled: true,
        roles: [101],
      });
      expect(cfMember("ada.lovelace@example.com")).toMatchObject({
        status: "pending",
        roles: [READ_ONLY],
      });
      const group = cfGroup("ops");
      expect(group?.policies).toMatchObject([
        { access: "allow", permission_groups: [{ id: PG }], resource_groups: [{ id: RG }] },
      ]);
      expect([...group!.members]).toEqual([cfMember("ada.lovelace@example.com")!.id]);
    });
    // Every Contabo call carried a request id; no password was ever sent on create.
    expect(contabo.sim.calls.every((c) => c.requestId)).toBe(true);
    const posts = contabo.sim.calls.filter((c) => c.method === "POST");
    expect(posts).toHaveLength(1);
    expect(JSON.stringify(posts[0]!.body)).not.toMatch(/password/i);
  });

  it("joining the administrators group gives Contabo admin and its role; leaving takes both away", async () => {
    await send({
      id: crypto.randomUUID(),
      type: "group.created",
      data: { id: "g-admins", displayName: "admins", members: [{ value: "u1" }] },
    });
    await eventually(() =>
      expect(contaboUser("ada.lovelace@example.com")).toMatchObject({
        admin: true,
        roles: [101, 102],
      })
    );
    await send({
      id: crypto.randomUUID(),
      type: "group.members.removed",
      data: { groupId: "g-admins", members: [{ value: "u1" }] },
    });
    await eventually(() =>
      expect(contaboUser("ada.lovelace@example.com")).toMatchObject({ admin: false, roles: [101] })
    );
  });

  it("a target that is down holds up neither IONOS nor the other target", async () => {
    contabo.sim.failNext(10_000, 503);
    await send(userEvent("user.created", "u2", "grace.hopper@example.com"));
    await eventually(() => {
      expect(h.sim.sim.state.userByEmail("grace.hopper@example.com")).toBeDefined();
      expect(cfMember("grace.hopper@example.com")).toBeDefined();
    });
    expect(contaboUser("grace.hopper@example.com")).toBeUndefined();
    // Contabo's job for u2 failed at least once (and will retry) while the others went on.
    await eventually(() =>
      expect(
        h.logs.some((l) =>
          l.includes('"target sync failed, will retry"') && l.includes('"user:u2"') &&
          l.includes("contabo 503")
        ),
      ).toBe(true)
    );
    contabo.sim.failNext(0, 503);
    // Contabo back: its job's retries bring it in step.
    await eventually(() => expect(contaboUser("grace.hopper@example.com")).toBeDefined(), 30_000);
  }, 40_000);

  it("whois shows every target's twin", async () => {
    const { code, stdout } = await operator(["whois", "grace.hopper@example.com", "--json"]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.targets).toMatchObject({
      contabo: { targetId: contaboUser("grace.hopper@example.com")!.userId, origin: "created" },
      cloudflare: {
        targetId: cfMember("grace.hopper@example.com")!.id,
        origin: "created",
        state: "pending",
      },
    });
  });

  it("the admin API's whois shows every target's twin as the CLI does", async () => {
    const res = await fetch(`${h.url}/admin/api/whois/grace.hopper@example.com`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const report = await res.json();
    expect(report.targets).toMatchObject({
      contabo: { targetId: contaboUser("grace.hopper@example.com")!.userId, origin: "created" },
      cloudflare: { targetId: cfMember("grace.hopper@example.com")!.id, state: "pending" },
    });
  });

  it("an event replayed from the CLI reaches the other targets too", async () => {
    const id = contaboUser("grace.hopper@example.com")!.userId;
    const before = contabo.sim.calls.length;
    const { code, stderr } = await operator(["events", "replay", "--entity", "user:u2", "--json"]);
    expect(code, stderr).toBe(0);
    await eventually(() =>
      expect(
        contabo.sim.calls.slice(before).some((c) =>
          c.method === "GET" && c.path === `/v1/users/${id}`
        ),
      ).toBe(true)
    );
  });

  it("user.deleted ends in Contabo DELETE /v1/users/{id} and the Cloudflare member's removal", async () => {
    const id = contaboUser("ada.lovelace@example.com")!.userId;
    const memberId = cfMember("ada.lovelace@example.com")!.id;
    await send({ id: crypto.randomUUID(), type: "user.deleted", data: { id: "u1" } });
    await eventually(() => {
      expect(contabo.sim.users.has(id)).toBe(false);
      expect(cloudflare.sim.members.has(memberId)).toBe(false);
      expect(h.sim.sim.state.userByEmail("ada.lovelace@example.com")).toBeUndefined();
    });
    expect(
      contabo.sim.calls.some((c) =>
        c.method === "DELETE" && c.path === `/v1/users/${id}` && c.status === 204
      ),
    )
      .toBe(true);
    expect(cloudflare.sim.calls.some((c) =>
      c.method === "DELETE" &&
      c.path === `/client/v4/accounts/${CLOUDFLARE_SIM_ACCOUNT}/members/${memberId}`
    )).toBe(true);
    expect(cfGroup("ops")!.members.size).toBe(0);
  });

  it("each target's jobs are counted under its own metrics label", async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    for (const target of ["contabo", "cloudflare"]) {
      expect(text).toMatch(
        new RegExp(
          `ionos_sync_target_job_duration_seconds_count\\{target="${target}",kind="user",outcome="completed"\\} [1-9]`,
        ),
      );
    }
    expect(text).toMatch(
      /ionos_sync_target_job_duration_seconds_count\{target="contabo",kind="user",outcome="failed"\} [1-9]/,
    );
  });

  it("no secret of any target is in the service's logs", () => {
    const text = h.logs.join("\n");
    expect(text).toContain("target sync done");
    expect(text).toContain("target sync failed, will retry");
    for (
      const secret of [
        CONTABO_SIM_CREDENTIALS.clientSecret,
        CONTABO_SIM_CREDENTIALS.apiPassword,
        CLOUDFLARE_SIM_TOKEN,
      ]
    ) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/Bearer sim\./);
  });
});
