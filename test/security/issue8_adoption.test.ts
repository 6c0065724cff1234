/**
 * Issue 8, case 4 and the "Adoption is a choice with safe defaults" rule: which pre-existing
 * IONOS users and groups the service may adopt (`adopt.users`, `adopt.groups`), and what an IdP
 * delete may do to them (`adopt.deleteAdopted`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../_support/harness.ts";
import {
  deleted,
  failureReasons,
  group,
  ionosGroups,
  ionosUser,
  issue8Mapping,
  memberEmails,
  send,
  snapshotUser,
  twin,
  user,
} from "./issue8_helpers.ts";

describe("defaults (adopt.users: non-admin, adopt.groups: true, adopt.deleteAdopted: false)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ mapping: issue8Mapping() });
  });
  afterAll(async () => await h?.stop());

  it("issue 8 case 4: a pre-existing IONOS administrator is never adopted by email, the conflict says how to resolve it, and the IdP delete leaves it alone", async () => {
    const boss = h.sim.sim.state.addUser({
      firstname: "Big",
      lastname: "Boss",
      email: "boss@example.com",
      administrator: true,
    });
    const before = snapshotUser(h, boss.id);
    await send(h, user("user.created", "c4-boss", "boss@example.com"));
    await h.drain();
    expect(snapshotUser(h, boss.id)).toEqual(before);
    expect((await twin(h, "user:c4-boss")).ionosId).not.toBe(boss.id);
    const reason = await failureReasons(h, "user:c4-boss");
    expect(reason).toMatch(/conflict/i);
    expect(reason).toContain("protectedEmails");
    expect(reason).toMatch(/adopt\.users: ?all/);

    await send(h, deleted("user", "c4-boss"));
    await h.drain();
    expect(snapshotUser(h, boss.id)).toEqual(before);
  });

  it("issue 8 case 4: a hand-made IONOS group with an IdP group's name is adopted but keeps its privileges and hand-added members, and group.deleted does not delete it", async () => {
    const state = h.sim.sim.state;
    const ops = state.addGroup({ name: "ionos-ops", createDataCenter: true, reserveIp: true });
    const hand = state.addUser({ firstname: "Hand", lastname: "Made", email: "hand4@example.com" });
    state.addMember(ops.id, hand.id);

    await send(
      h,
      user("user.created", "c4-dev", "dev4@example.com"),
      group("group.created", "c4-ops", "ionos-ops", ["c4-dev"]),
    );
    await h.drain();
    expect(ionosGroups(h, "ionos-ops").map((g) => g.id)).toEqual([ops.id]);
    expect(state.group(ops.id)?.properties).toEqual(ops.properties);
    expect(memberEmails(h, ops.id)).toEqual(["dev4@example.com", "hand4@example.com"]);

    await send(h, deleted("group", "c4-ops"));
    await h.drain();
    expect(state.group(ops.id)?.properties).toEqual(ops.properties);
    expect(memberEmails(h, ops.id)).toEqual(["hand4@example.com"]);
    expect(ionosUser(h, "dev4@example.com")).toBeDefined();
  });

  it("a pre-existing non-admin is adopted, follows the IdP, and user.deleted only deactivates and demotes it", async () => {
    const pat = h.sim.sim.state.addUser({
      firstname: "Pat",
      lastname: "Pre",
      email: "pat@example.com",
    });
    await send(
      h,
      user("user.created", "ad-pat", "Pat@Example.com"),
      group("group.created", "ad-admins", "ionos-admins", ["ad-pat"]),
    );
    await h.drain();
    expect((await twin(h, "user:ad-pat")).ionosId).toBe(pat.id);
    expect(h.sim.sim.state.user(pat.id)?.properties).toMatchObject({
      administrator: true,
      active: true,
    });

    await send(h, deleted("user", "ad-pat"));
    await h.drain();
    expect(h.sim.sim.state.user(pat.id)?.properties).toMatchObject({
      email: "pat@example.com",
      administrator: false,
      active: false,
    });
    expect(await failureReasons(h, "user:ad-pat")).toBe("");
  });

  it("a group the service created is still deleted with its IdP group", async () => {
    await send(h, group("group.created", "ad-own", "ionos-own"));
    await h.drain();
    const id = (await twin(h, "group:ad-own")).ionosId!;
    expect(h.sim.sim.state.group(id)?.properties.name).toBe("ionos-own");
    await send(h, deleted("group", "ad-own"));
    await h.drain();
    expect(h.sim.sim.state.group(id)).toBeUndefined();
  });
});

describe("adopt.users: none, and groups.privileges on an adopted group", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      mapping: `
administrators: ["ionos-admins"]
groups:
  include: ["ionos-*"]
  privileges:
    ionos-build*: [createSnapshot]
protectedEmails: ["owner@example.com"]
adopt:
  users: none
`,
    });
  });
  afterAll(async () => await h?.stop());

  it("adopt.users: none adopts not even a non-admin: a conflict, and the account is untouched", async () => {
    const nina = h.sim.sim.state.addUser({
      firstname: "Nina",
      lastname: "None",
      email: "nina@example.com",
    });
    const before = snapshotUser(h, nina.id);
    await send(h, user("user.created", "none-nina", "nina@example.com"));
    await h.drain();
    expect(snapshotUser(h, nina.id)).toEqual(before);
    expect((await twin(h, "user:none-nina")).ionosId).not.toBe(nina.id);
    expect(await failureReasons(h, "user:none-nina")).toMatch(/conflict/i);
    expect(h.sim.sim.state.users().filter((u) => u.properties.email === "nina@example.com"))
      .toHaveLength(1);

    // Someone with a fresh address is still created.
    await send(h, user("user.created", "none-fresh", "fresh@example.com"));
    await h.drain();
    expect(ionosUser(h, "fresh@example.com")).toBeDefined();
  });

  it("an adopted group whose name a groups.privileges pattern matches gets the mapping's privileges", async () => {
    const build = h.sim.sim.state.addGroup({ name: "ionos-build", reserveIp: true });
    await send(h, group("group.created", "none-build", "ionos-build"));
    await h.drain();
    expect((await twin(h, "group:none-build")).ionosId).toBe(build.id);
    expect(h.sim.sim.state.group(build.id)?.properties).toMatchObject({
      createSnapshot: true,
      reserveIp: false,
    });
  });
});

describe("adopt.users: all, adopt.groups: false, adopt.deleteAdopted: true", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      mapping: issue8Mapping(`
adopt:
  users: all
  groups: false
  deleteAdopted: true
`),
    });
  });
  afterAll(async () => await h?.stop());

  it("adopt.users: all adopts a pre-existing administrator, which then follows the IdP (demoted outside the admin group)", async () => {
    const root = h.sim.sim.state.addUser({
      firstname: "Root",
      lastname: "Pre",
      email: "root@example.com",
      administrator: true,
    });
    await send(h, user("user.created", "all-root", "root@example.com"));
    await h.drain();
    expect((await twin(h, "user:all-root")).ionosId).toBe(root.id);
    expect(h.sim.sim.state.user(root.id)?.properties).toMatchObject({
      administrator: false,
      active: true,
    });
    expect(await failureReasons(h, "user:all-root")).toBe("");
  });

  it("adopt.deleteAdopted: true lets user.deleted delete an adopted account", async () => {
    const old = h.sim.sim.state.addUser({
      firstname: "Old",
      lastname: "Timer",
      email: "old@example.com",
    });
    await send(h, user("user.created", "all-old", "old@example.com"));
    await h.drain();
    expect((await twin(h, "user:all-old")).ionosId).toBe(old.id);
    await send(h, deleted("user", "all-old"));
    await h.drain();
    expect(h.sim.sim.state.user(old.id)).toBeUndefined();
  });

  it("adopt.groups: false reports a conflict for a hand-made group with the IdP group's name and leaves it alone, but creates groups that do not exist", async () => {
    const legacy = h.sim.sim.state.addGroup({ name: "ionos-legacy", createDataCenter: true });
    await send(
      h,
      user("user.created", "all-member", "member@example.com"),
      group("group.created", "all-legacy", "ionos-legacy", ["all-member"]),
      group("group.created", "all-fresh", "ionos-fresh", ["all-member"]),
    );
    await h.drain();
    expect(ionosGroups(h, "ionos-legacy")).toEqual([legacy]);
    expect(h.sim.sim.state.members(legacy.id)).toEqual([]);
    expect(await failureReasons(h, "group:all-legacy")).toMatch(/conflict/i);

    const fresh = ionosGroups(h, "ionos-fresh");
    expect(fresh).toHaveLength(1);
    expect(memberEmails(h, fresh[0]!.id)).toEqual(["member@example.com"]);
  });
});
