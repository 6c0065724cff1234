/**
 * Issue 8, case 1: the protected owner's IONOS account cannot be adopted, rewritten or pulled into
 * groups by an IdP user who claims its email in another spelling, through `/events` or SCIM.
 * Real Redis, the IONOS simulator over HTTP, the mapping of the issue.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimUser } from "../../src/targets/ionos/simulator/mod.ts";
import { type Harness, startHarness } from "../_support/harness.ts";
import {
  deleted,
  failureReasons,
  group,
  IONOS_USER_SCHEMA,
  ionosGroups,
  ionosUser,
  issue8Mapping,
  PATCH_OP,
  scim,
  scimUser,
  send,
  snapshotUser,
  twin,
  user,
} from "./issue8_helpers.ts";

let h: Harness;
let owner: SimUser;
beforeAll(async () => {
  h = await startHarness({ mapping: issue8Mapping() });
  // The contract owner, made by hand in the IONOS console long before the service existed.
  owner = h.sim.sim.state.addUser({
    firstname: "Olga",
    lastname: "Owner",
    email: "owner@example.com",
    administrator: true,
  });
});
afterAll(async () => await h?.stop());

describe("issue 8 case 1: takeover of the protected owner", () => {
  it("an IdP user with the owner's email in another case never adopts or rewrites the owner's account (/events)", async () => {
    const before = snapshotUser(h, owner.id);
    await send(h, user("user.created", "c1-attacker", "Owner@Example.COM"));
    await h.drain();
    expect(snapshotUser(h, owner.id)).toEqual(before);
    expect((await twin(h, "user:c1-attacker")).ionosId).not.toBe(owner.id);
    expect(await failureReasons(h, "user:c1-attacker")).toMatch(/conflict/i);

    // The attack: move the "adopted" account to an address the IdP controls.
    await send(h, user("user.updated", "c1-attacker", "attacker@evil.example"));
    await h.drain();
    expect(snapshotUser(h, owner.id)).toEqual(before);
    expect(ionosUser(h, "owner@example.com")?.id).toBe(owner.id);
    const own = ionosUser(h, "attacker@evil.example");
    expect(own?.id).not.toBe(owner.id);

    // Deprovisioning the claimant removes only its own account.
    await send(h, deleted("user", "c1-attacker"));
    await h.drain();
    expect(snapshotUser(h, owner.id)).toEqual(before);
    expect(ionosUser(h, "attacker@evil.example")).toBeUndefined();
  });

  it("SCIM POST /Users with the owner's email then PATCH of the email never touches the owner's account, and the SCIM extension reports the conflict", async () => {
    const before = snapshotUser(h, owner.id);
    const created = await scim(h, "POST", "/Users", scimUser("c1-scim", "OWNER@Example.com"));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await h.drain();
    expect(snapshotUser(h, owner.id)).toEqual(before);
    const shown = await scim(h, "GET", `/Users/${id}`);
    expect(shown.body[IONOS_USER_SCHEMA].ionosUserId).not.toBe(owner.id);
    expect(shown.body[IONOS_USER_SCHEMA].lastError).toMatch(/conflict/i);

    const patched = await scim(h, "PATCH", `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{
        op: "replace",
        value: { emails: [{ primary: true, value: "scim-attacker@evil.example", type: "work" }] },
      }],
    });
    expect(patched.status).toBe(200);
    await h.drain();
    expect(snapshotUser(h, owner.id)).toEqual(before);
    expect(ionosUser(h, "owner@example.com")?.id).toBe(owner.id);
    expect(ionosUser(h, "scim-attacker@evil.example")?.id).not.toBe(owner.id);
  });

  it("an IdP user claiming the owner's email and listed in the admin group never puts the owner's account into an IONOS group", async () => {
    const before = snapshotUser(h, owner.id);
    await send(
      h,
      user("user.created", "c1-member", "owner@example.com"),
      group("group.created", "c1-admins", "ionos-admins", ["c1-member"]),
    );
    await h.drain();
    expect(snapshotUser(h, owner.id)).toEqual(before);
    const groupId = (await twin(h, "group:c1-admins")).ionosId!;
    expect(ionosGroups(h, "ionos-admins").map((g) => g.id)).toContain(groupId);
    expect(h.sim.sim.state.members(groupId)).toEqual([]);
    expect(await failureReasons(h, "user:c1-member")).toMatch(/conflict/i);
  });
});

describe("one account, one owner: the binding is released", () => {
  it("when the owner's email moves on, another IdP user can take the old address and gets its own account", async () => {
    await send(h, user("user.created", "bd-first", "desk@example.com"));
    await h.drain();
    const first = ionosUser(h, "desk@example.com")!.id;
    await send(h, user("user.updated", "bd-first", "desk.moved@example.com"));
    await h.drain();
    expect(h.sim.sim.state.user(first)?.properties.email).toBe("desk.moved@example.com");

    await send(h, user("user.created", "bd-second", "desk@example.com"));
    await h.drain();
    const second = ionosUser(h, "desk@example.com")!.id;
    expect(second).not.toBe(first);
    expect((await twin(h, "user:bd-second")).ionosId).toBe(second);
    expect(await failureReasons(h, "user:bd-second")).toBe("");
  });

  it("when the owner is deleted at the IdP and its account deleted, another IdP user gets the address", async () => {
    await send(h, user("user.created", "bd-leaver", "seat@example.com"));
    await h.drain();
    const old = ionosUser(h, "seat@example.com")!.id;
    await send(h, deleted("user", "bd-leaver"));
    await send(h, user("user.created", "bd-joiner", "seat@example.com"));
    await h.drain();
    expect(h.sim.sim.state.user(old)).toBeUndefined();
    const fresh = ionosUser(h, "seat@example.com")!.id;
    expect((await twin(h, "user:bd-joiner")).ionosId).toBe(fresh);
    expect(await failureReasons(h, "user:bd-joiner")).toBe("");
  });
});
