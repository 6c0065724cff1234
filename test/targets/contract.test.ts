/**
 * The seam's contract (src/targets/target.ts), run against each target's adapter and client over
 * HTTP against that target's simulator. What a cloud cannot express is read from its
 * capabilities, so one table of expectations holds for all three.
 */
import { afterEach, describe, expect, it } from "vitest";
import { CloudflareClient } from "../../src/targets/cloudflare/client.ts";
import {
  CLOUDFLARE_SIM_ACCOUNT,
  CLOUDFLARE_SIM_TOKEN,
} from "../../src/targets/cloudflare/simulator/app.ts";
import { startCloudflareSimulator } from "../../src/targets/cloudflare/simulator/server.ts";
import { cloudflareTarget } from "../../src/targets/cloudflare/target.ts";
import { ContaboClient } from "../../src/targets/contabo/client.ts";
import { CONTABO_SIM_CREDENTIALS } from "../../src/targets/contabo/simulator/app.ts";
import { startContaboSimulator } from "../../src/targets/contabo/simulator/server.ts";
import { contaboTarget } from "../../src/targets/contabo/target.ts";
import { TargetUnsupportedError } from "../../src/targets/errors.ts";
import { IonosClient } from "../../src/targets/ionos/client.ts";
import { startIonosSimulator } from "../../src/targets/ionos/simulator/mod.ts";
import { ionosTarget } from "../../src/targets/ionos/target.ts";
import {
  type Target,
  TARGET_CAPABILITIES,
  TARGET_NAMES,
  type TargetName,
} from "../../src/targets/target.ts";
import { generatePassword } from "../../workers/password.ts";

const CF_ROLE = "05784afa30c1afe1440e79d9351c7430";
const CF_PG = "c8fed203ed3043cba015a93ad1616f1f";
const CF_RG = "6d7f2f5f5b1d4a0e9081fdc98d432fd1";
const IONOS_TOKEN = "sim-SECRET-contract-token";

/** One target under test: how to start it, and what the table below cannot derive. */
interface Case {
  name: TargetName;
  start(): Promise<{ target: Target; close: () => Promise<void> }>;
  /** Role ids to create a user with, and the ones the user then has. */
  roleIds: { give: string[]; expect: string[] };
  /** Two different grant sets for a group (targets with groups). */
  grants: [unknown[], unknown[]];
  /**
   * Whether `updateUser` writes. The seam has no capability for it: a Cloudflare member's names
   * belong to the person's own user, so its adapter refuses.
   */
  updatesUsers: boolean;
}

const CASES: Case[] = [
  {
    name: "ionos",
    start: async () => {
      const { url, close } = await startIonosSimulator({
        token: IONOS_TOKEN,
        rateLimitPerSecond: 0,
        requestDelayMs: 20,
      });
      const client = new IonosClient({
        baseUrl: url,
        auth: { token: IONOS_TOKEN },
        baseDelayMs: 5,
        requestPollIntervalMs: 10,
      });
      return { target: ionosTarget(client, { newPassword: generatePassword }), close };
    },
    roleIds: { give: [], expect: [] },
    grants: [["createDataCenter"], ["createSnapshot", "reserveIp"]],
    updatesUsers: true,
  },
  {
    name: "contabo",
    start: async () => {
      const { url, authUrl, close } = await startContaboSimulator();
      const client = new ContaboClient({
        apiUrl: url,
        authUrl,
        credentials: { ...CONTABO_SIM_CREDENTIALS },
        baseDelayMs: 1,
      });
      return { target: contaboTarget(client), close };
    },
    roleIds: { give: ["102", "101"], expect: ["101", "102"] },
    grants: [[], []],
    updatesUsers: true,
  },
  {
    name: "cloudflare",
    start: async () => {
      const { url, close } = await startCloudflareSimulator({ rateLimit: 0 });
      const client = new CloudflareClient({
        apiUrl: url,
        apiToken: CLOUDFLARE_SIM_TOKEN,
        accountId: CLOUDFLARE_SIM_ACCOUNT,
        baseDelayMs: 1,
      });
      return { target: cloudflareTarget(client, [CF_ROLE]), close };
    },
    // Members are invited with the account's member roles when none are given.
    roleIds: { give: [], expect: [CF_ROLE] },
    grants: [
      [{ access: "allow", permissionGroups: [CF_PG], resourceGroups: [CF_RG] }],
      [{ access: "deny", permissionGroups: [CF_PG], resourceGroups: [CF_RG] }],
    ],
    updatesUsers: false,
  },
];

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

async function start(c: Case): Promise<Target> {
  const { target, close } = await c.start();
  closers.push(close);
  return target;
}

const person = (c: Case, email: string) => ({
  email,
  firstName: "Ada",
  lastName: "Lovelace",
  enabled: true,
  admin: true,
  roleIds: c.roleIds.give,
});

it("the table covers every target", () => {
  expect(CASES.map((c) => c.name).sort()).toEqual([...TARGET_NAMES].sort());
});

describe.each(CASES)("the target seam: $name", (c) => {
  const caps = TARGET_CAPABILITIES[c.name];

  it("names itself, states its capabilities, and has groups exactly when they say so", async () => {
    const target = await start(c);
    expect(target.name).toBe(c.name);
    expect(target.capabilities).toEqual(caps);
    expect(target.groups !== undefined).toBe(caps.groups);
  });

  it("creates a user, finds it by email in any case, reads, lists and deletes it", async () => {
    const target = await start(c);
    const before = new Set<string>();
    for await (const u of target.users.listUsers()) before.add(u.id);

    const user = await target.users.createUser(person(c, "ada.contract@example.com"));
    expect(user).toMatchObject({
      email: "ada.contract@example.com",
      status: caps.invitation ? "pending" : "active",
      // A flag the cloud cannot express is ignored, not faked.
      admin: caps.adminFlag,
      owner: false,
    });
    expect([...user.roleIds].sort()).toEqual(c.roleIds.expect);
    expect(await target.users.findUserByEmail("ADA.Contract@Example.com")).toMatchObject({
      id: user.id,
    });
    expect(await target.users.getUser(user.id)).toMatchObject({ id: user.id });
    expect(await target.users.findUserByEmail("nobody@example.com")).toBeUndefined();

    const after = [];
    for await (const u of target.users.listUsers()) if (!before.has(u.id)) after.push(u.id);
    expect(after).toEqual([user.id]);

    expect(await target.users.deleteUser(user.id)).toBe(true);
    expect(await target.users.getUser(user.id)).toBeUndefined();
    expect(await target.users.findUserByEmail(user.email)).toBeUndefined();
    // A retried delete after a lost answer: already gone is not an error.
    expect(await target.users.deleteUser(user.id)).toBe(false);
  });

  it("updates a user where it can, and deactivates one where capabilities.deactivate", async () => {
    const target = await start(c);
    const user = await target.users.createUser(person(c, "grace.contract@example.com"));

    const update = target.users.updateUser(user.id, { lastName: "Hopper" });
    if (c.updatesUsers) {
      expect(await update).toMatchObject({ id: user.id, lastName: "Hopper", enabled: true });
      expect(await target.users.getUser(user.id)).toMatchObject({
        lastName: "Hopper",
        firstName: "Ada",
        email: "grace.contract@example.com",
      });
    } else {
      await expect(update).rejects.toBeInstanceOf(TargetUnsupportedError);
    }

    const deactivate = target.users.deactivateUser(user.id);
    if (caps.deactivate) {
      expect(await deactivate).toMatchObject({ id: user.id, enabled: false });
      expect(await target.users.getUser(user.id)).toMatchObject({ enabled: false });
    } else {
      await expect(deactivate).rejects.toBeInstanceOf(TargetUnsupportedError);
      expect(await target.users.getUser(user.id)).toMatchObject({ enabled: true });
    }
  });

  it.runIf(caps.groups)("creates, finds, updates and deletes a group with members", async () => {
    const target = await start(c);
    const groups = target.groups!;
    const a = await target.users.createUser(person(c, "a.contract@example.com"));
    const b = await target.users.createUser(person(c, "b.contract@example.com"));

    const g = await groups.createGroup({ name: "contract-one", grants: c.grants[0] });
    expect(g).toMatchObject({ name: "contract-one", grants: c.grants[0] });
    expect(await groups.findGroupByName("contract-one")).toMatchObject({ id: g.id });
    expect(await groups.findGroupByName("contract-none")).toBeUndefined();
    const listed = [];
    for await (const x of groups.listGroups()) listed.push(x.id);
    expect(listed).toContain(g.id);

    const renamed = await groups.updateGroup(g.id, { name: "contract-two", grants: c.grants[1] });
    expect(renamed).toMatchObject({ id: g.id, name: "contract-two", grants: c.grants[1] });
    expect(await groups.getGroup(g.id)).toMatchObject({
      name: "contract-two",
      grants: c.grants[1],
    });

    await groups.addMembers(g.id, [a.id]);
    expect(await groups.listMembers(g.id)).toEqual([a.id]);
    const replace = groups.replaceMembers(g.id, [a.id, b.id]);
    if (caps.replaceMembers) {
      await replace;
    } else {
      await expect(replace).rejects.toBeInstanceOf(TargetUnsupportedError);
      // Adding is the way there; a member already in is no error.
      await groups.addMembers(g.id, [a.id, b.id]);
    }
    expect((await groups.listMembers(g.id)).sort()).toEqual([a.id, b.id].sort());

    expect(await groups.removeMember(g.id, a.id)).toBe(true);
    expect(await groups.removeMember(g.id, a.id)).toBe(false);
    expect(await groups.listMembers(g.id)).toEqual([b.id]);

    expect(await groups.deleteGroup(g.id)).toBe(true);
    expect(await groups.getGroup(g.id)).toBeUndefined();
    expect(await groups.deleteGroup(g.id)).toBe(false);
    // The members' users are untouched by the group's deletion.
    expect(await target.users.getUser(b.id)).toMatchObject({ id: b.id });
  });
});
