/**
 * What the IONOS adapter (src/targets/ionos/target.ts) adds over the seam's contract
 * (../contract.test.ts): IONOS's full-set PUT, privilege flags as grants, one POST per member,
 * and writes that wait for their request. Against the IONOS simulator over HTTP.
 */
import { afterEach, describe, expect, it } from "vitest";
import { IonosClient } from "../../../src/targets/ionos/client.ts";
import { IonosApiError } from "../../../src/targets/ionos/errors.ts";
import {
  type IonosSimulator,
  type SimulatorOptions,
  startIonosSimulator,
} from "../../../src/targets/ionos/simulator/mod.ts";
import { ionosTarget, type IonosTargetOptions } from "../../../src/targets/ionos/target.ts";
import { IONOS_PRIVILEGES } from "../../../src/targets/ionos/types.ts";
import { generatePassword } from "../../../workers/password.ts";
import { classifyFailure } from "../../../workers/failure_policy.ts";

const TOKEN = "sim-SECRET-adapter-token";

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

async function setup(
  simOptions: SimulatorOptions = {},
  targetOptions: Partial<IonosTargetOptions> = {},
) {
  const { url, sim, close } = await startIonosSimulator({
    token: TOKEN,
    rateLimitPerSecond: 0,
    requestDelayMs: 20,
    ...simOptions,
  });
  closers.push(close);
  const client = new IonosClient({
    baseUrl: url,
    auth: { token: TOKEN },
    baseDelayMs: 5,
    requestPollIntervalMs: 10,
  });
  const target = ionosTarget(client, { newPassword: generatePassword, ...targetOptions });
  return { sim, target };
}

const ADA = {
  email: "ada@example.com",
  firstName: "Ada",
  lastName: "Lovelace",
  enabled: true,
  admin: false,
  roleIds: ["ignored"],
};

/** `POST /um/groups/{id}/users` calls: one member add each. */
const memberAdds = (sim: IonosSimulator) =>
  sim.callLog.filter((c) => c.method === "POST" && /\/um\/groups\/[^/]+\/users$/.test(c.path))
    .length;

describe("ionosTarget()", () => {
  it("creates a user with a fresh password each time and the forceSecAuth option", async () => {
    const passwords: string[] = [];
    const { sim, target } = await setup({}, {
      forceSecAuth: true,
      newPassword: () => {
        passwords.push(generatePassword());
        return passwords.at(-1)!;
      },
    });
    const a = await target.users.createUser(ADA);
    await target.users.createUser({ ...ADA, email: "grace@example.com", admin: true });
    expect(passwords).toHaveLength(2);
    expect(passwords[0]).not.toBe(passwords[1]);
    expect(sim.state.user(a.id)!.properties).toMatchObject({
      firstname: "Ada",
      lastname: "Lovelace",
      active: true,
      administrator: false,
      forceSecAuth: true,
    });
    expect(a.roleIds).toEqual([]);
    expect(sim.state.userByEmail("grace@example.com")!.properties.administrator).toBe(true);
  });

  it("updates by sending the full property set: what IONOS or a person set stays", async () => {
    const { sim, target } = await setup();
    const a = await target.users.createUser(ADA);
    // Turned on in the console: the sync never switches 2FA off.
    sim.state.updateUser(a.id, { secAuthActive: true, forceSecAuth: true });
    await target.users.updateUser(a.id, { lastName: "Byron", admin: true });
    expect(sim.state.user(a.id)!.properties).toMatchObject({
      firstname: "Ada",
      lastname: "Byron",
      email: "ada@example.com",
      administrator: true,
      active: true,
      secAuthActive: true,
      forceSecAuth: true,
    });
    await target.users.deactivateUser(a.id);
    expect(sim.state.user(a.id)!.properties).toMatchObject({ active: false, lastname: "Byron" });
  });

  it("an update of an unknown user is a permanent 404, and nothing is written", async () => {
    const { sim, target } = await setup();
    const error = await target.users.updateUser("no-such-id", { lastName: "X" }).catch((e) => e);
    expect(error).toBeInstanceOf(IonosApiError);
    expect(error).toMatchObject({ status: 404, retryable: false });
    expect(classifyFailure(error)).toBe("permanent");
    expect(sim.callLog.filter((c) => c.method === "PUT")).toHaveLength(0);
  });

  it("maps grants to privilege flags: every flag sent, true exactly for the grants", async () => {
    const { sim, target } = await setup();
    const g = await target.groups!.createGroup({ name: "devs", grants: ["createSnapshot"] });
    const props = sim.state.group(g.id)!.properties;
    for (const p of IONOS_PRIVILEGES) expect(props[p]).toBe(p === "createSnapshot");
    await target.groups!.updateGroup(g.id, { name: "devs", grants: ["reserveIp"] });
    expect(sim.state.group(g.id)!.properties).toMatchObject({
      createSnapshot: false,
      reserveIp: true,
    });
    expect((await target.groups!.getGroup(g.id))!.grants).toEqual(["reserveIp"]);
  });

  it("adds members one POST each, only those not in yet, after their create is DONE", async () => {
    // The simulator answers 422 to a member add whose user's create is not DONE (Terraform's
    // old bug, ionos-facts.md): with 150 ms requests, passing means every write waited.
    const { sim, target } = await setup({ requestDelayMs: 150, requireCreateDone: true });
    const a = await target.users.createUser(ADA);
    const b = await target.users.createUser({ ...ADA, email: "b@example.com" });
    const g = await target.groups!.createGroup({ name: "team", grants: [] });
    await target.groups!.addMembers(g.id, [a.id]);
    await target.groups!.addMembers(g.id, [a.id, b.id, b.id]);
    expect(memberAdds(sim)).toBe(2); // a once, b once
    expect(sim.state.members(g.id).sort()).toEqual([a.id, b.id].sort());
  });
});
