/** CloudflareClient against the Cloudflare simulator over HTTP. */
import { afterEach, describe, expect, it } from "vitest";
import {
  CloudflareClient,
  type CloudflareClientOptions,
} from "../../../src/targets/cloudflare/client.ts";
import {
  CLOUDFLARE_SIM_ACCOUNT,
  CLOUDFLARE_SIM_TOKEN,
  type CloudflareSimulatorOptions,
} from "../../../src/targets/cloudflare/simulator/app.ts";
import { startCloudflareSimulator } from "../../../src/targets/cloudflare/simulator/server.ts";
import { cloudflareTarget } from "../../../src/targets/cloudflare/target.ts";
import { TargetApiError, TargetUnsupportedError } from "../../../src/targets/errors.ts";
import { classifyFailure, describeFailure } from "../../../workers/failure_policy.ts";

const READ_ONLY = "05784afa30c1afe1440e79d9351c7430";
const PG = "c8fed203ed3043cba015a93ad1616f1f";
const RG = "6d7f2f5f5b1d4a0e9081fdc98d432fd1";

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

async function setup(
  simOptions: CloudflareSimulatorOptions = {},
  clientOptions: Partial<CloudflareClientOptions> = {},
) {
  const { url, sim, close } = await startCloudflareSimulator({ rateLimit: 0, ...simOptions });
  closers.push(close);
  const client = new CloudflareClient({
    apiUrl: url,
    apiToken: CLOUDFLARE_SIM_TOKEN,
    accountId: CLOUDFLARE_SIM_ACCOUNT,
    baseDelayMs: 1,
    ...clientOptions,
  });
  return { sim, client };
}

describe("CloudflareClient: account members", () => {
  it("invites by email (pending until accepted), finds and removes the member", async () => {
    const { sim, client } = await setup();
    const invited = await client.inviteMember("ada@example.com", [READ_ONLY]);
    expect(invited).toMatchObject({
      email: "ada@example.com",
      status: "pending",
      roleIds: [READ_ONLY],
    });
    expect(sim.calls.at(-1)).toMatchObject({
      method: "POST",
      path: `/client/v4/accounts/${CLOUDFLARE_SIM_ACCOUNT}/members`,
      body: { email: "ada@example.com", roles: [READ_ONLY] },
    });
    sim.acceptInvitation("ada@example.com");
    expect(await client.findMemberByEmail("ADA@example.com")).toMatchObject({
      id: invited.id,
      status: "accepted",
    });
    expect(await client.removeMember(invited.id)).toBe(true);
    expect(await client.removeMember(invited.id)).toBe(false);
    expect(await client.getMember(invited.id)).toBeUndefined();
  });

  it("reads the v4 envelope's errors: a second invite for the same email is permanent", async () => {
    const { client } = await setup();
    await client.inviteMember("ada@example.com", [READ_ONLY]);
    const error = await client.inviteMember("ada@example.com", [READ_ONLY]).catch((e) => e);
    expect(error).toBeInstanceOf(TargetApiError);
    expect(error).toMatchObject({ status: 400, code: "1001", retryable: false });
    expect(describeFailure(error)).toMatch(
      /^cloudflare 400 on POST \/accounts\/\{account_id\}\/members: 1001/,
    );
  });

  it("pages through members with page and per_page (result_info.total_pages)", async () => {
    const { sim, client } = await setup({}, { perPage: 5 });
    for (let i = 0; i < 12; i++) sim.addMember(`m${String(i).padStart(2, "0")}@example.com`);
    const seen = [];
    for await (const m of client.listMembers()) seen.push(m.email);
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
    expect(sim.calls.filter((c) => c.method === "GET")).toHaveLength(3);
  });

  it("a wrong token is a permanent 403 whose message carries no token", async () => {
    const { client } = await setup({}, { apiToken: "cf-wrong-TOKEN-SECRET-987654" });
    const error = await client.getMember("x").catch((e) => e);
    expect(error).toMatchObject({ status: 403, code: "10000", retryable: false });
    expect(classifyFailure(error)).toBe("permanent");
    expect(`${error.message} ${describeFailure(error)}`).not.toContain(
      "cf-wrong-TOKEN-SECRET-987654",
    );
  });
});

describe("CloudflareClient: user groups and their members", () => {
  it("creates a group with policies, updates it (PUT), deletes it", async () => {
    const { sim, client } = await setup();
    const policies = [{ access: "allow" as const, permissionGroups: [PG], resourceGroups: [RG] }];
    const g = await client.createUserGroup({ name: "cf-dns", policies });
    expect(g).toMatchObject({ name: "cf-dns", policies });
    expect(sim.calls.at(-1)!.body).toEqual({
      name: "cf-dns",
      policies: [{
        access: "allow",
        permission_groups: [{ id: PG }],
        resource_groups: [{ id: RG }],
      }],
    });
    const updated = await client.updateUserGroup(g.id, { name: "cf-dns-2", policies: [] });
    expect(updated).toMatchObject({ name: "cf-dns-2", policies: [] });
    expect((await client.findUserGroupByName("cf-dns-2"))?.id).toBe(g.id);
    expect(await client.deleteUserGroup(g.id)).toBe(true);
    expect(await client.getUserGroup(g.id)).toBeUndefined();
  });

  it("adds members (POST [{id}]), replaces them (PUT [{id}]) and removes one (DELETE)", async () => {
    const { sim, client } = await setup();
    const [a, b, c] = ["a", "b", "c"].map((n) => sim.addMember(`${n}@example.com`));
    const g = await client.createUserGroup({ name: "cf-ops", policies: [] });
    await client.addGroupMembers(g.id, [a!.id, b!.id]);
    expect(sim.calls.at(-1)!.body).toEqual([{ id: a!.id }, { id: b!.id }]);
    expect((await client.listGroupMembers(g.id)).map((m) => m.id).sort()).toEqual(
      [a!.id, b!.id].sort(),
    );
    await client.replaceGroupMembers(g.id, [c!.id]);
    expect(sim.calls.at(-1)).toMatchObject({ method: "PUT", body: [{ id: c!.id }] });
    expect([...sim.userGroups.get(g.id)!.members]).toEqual([c!.id]);
    expect(await client.removeGroupMember(g.id, c!.id)).toBe(true);
    expect(await client.removeGroupMember(g.id, c!.id)).toBe(false);
    expect(await client.listGroupMembers(g.id)).toEqual([]);
  });
});

describe("CloudflareClient: rate limit", () => {
  it("past the window's limit, waits out retry-after and goes on", async () => {
    const { sim, client } = await setup({ rateLimit: 3, rateLimitWindowMs: 1000 }, {
      maxAttempts: 4,
    });
    for (let i = 0; i < 5; i++) await client.getMember(`m${i}`);
    const limited = sim.calls.filter((c) => c.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(sim.calls.filter((c) => c.status === 404)).toHaveLength(5);
  });

  it("a 5xx that outlasts the attempts is retryable for the job", async () => {
    const { sim, client } = await setup({}, { maxAttempts: 2 });
    sim.failNext(2, 502);
    const error = await client.getMember("x").catch((e) => e);
    expect(error).toMatchObject({ status: 502, retryable: true });
    expect(classifyFailure(error)).toBe("retry");
  });
});

describe("cloudflareTarget()", () => {
  it("says what Cloudflare cannot express, and maps members and groups", async () => {
    const { sim, client } = await setup();
    const target = cloudflareTarget(client, [READ_ONLY]);
    expect(target.capabilities).toMatchObject({
      invitation: true,
      deactivate: false,
      groups: true,
    });
    const u = await target.users.createUser({
      email: "x@example.com",
      firstName: "X",
      lastName: "Y",
      enabled: true,
      admin: false,
      roleIds: [],
    });
    expect(u).toMatchObject({ status: "pending", roleIds: [READ_ONLY] });
    await expect(target.users.deactivateUser(u.id)).rejects.toBeInstanceOf(TargetUnsupportedError);
    const g = await target.groups!.createGroup({ name: "cf-x", grants: [] });
    await target.groups!.addMembers(g.id, [u.id]);
    expect(await target.groups!.listMembers(g.id)).toEqual([u.id]);
    expect(await target.users.deleteUser(u.id)).toBe(true);
    // Removing the member removes it from its groups too.
    expect(sim.userGroups.get(g.id)!.members.size).toBe(0);
  });
});
