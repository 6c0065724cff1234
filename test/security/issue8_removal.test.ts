/**
 * Issue 8, case 2 and the "Removal wins" rule: a job that takes access away applies the reduction
 * on its own first, so an unrelated failure of the rest (an email clash) never blocks it, and the
 * failure is still reported.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../_support/harness.ts";
import {
  at,
  deleted,
  failureReasons,
  group,
  ionosUser,
  issue8Mapping,
  members,
  send,
  snapshotUser,
  twin,
  user,
} from "./issue8_helpers.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ mapping: issue8Mapping() });
});
afterAll(async () => await h?.stop());

describe("issue 8 case 2: removal blocked by an unrelated clash", () => {
  it("an admin whose email moves to an address another IONOS account uses is still demoted and deactivated, and the clash is reported", async () => {
    // Someone else's account, made by hand in IONOS.
    const other = h.sim.sim.state.addUser({
      firstname: "Taken",
      lastname: "Already",
      email: "taken@example.com",
    });
    await send(
      h,
      user("user.created", "c2-admin", "alice2@example.com"),
      group("group.created", "c2-admins", "ionos-admins", ["c2-admin"]),
    );
    await h.drain();
    const id = ionosUser(h, "alice2@example.com")!.id;
    expect(h.sim.sim.state.user(id)?.properties).toMatchObject({
      administrator: true,
      active: true,
    });
    const otherBefore = snapshotUser(h, other.id);

    // Email change, removal from the admin group and deactivation, in this order at the IdP.
    const now = Date.now();
    const t = (s: number) => new Date(now + s * 1000).toISOString();
    await send(
      h,
      at(t(1), user("user.updated", "c2-admin", "taken@example.com")),
      at(t(2), members("group.members.removed", "c2-admins", ["c2-admin"])),
      at(t(3), user("user.deactivated", "c2-admin", "taken@example.com")),
    );
    await h.drain();

    expect(h.sim.sim.state.user(id)?.properties).toMatchObject({
      email: "alice2@example.com",
      administrator: false,
      active: false,
    });
    expect(snapshotUser(h, other.id)).toEqual(otherBefore);
    expect(await failureReasons(h, "user:c2-admin")).toMatch(/conflict/i);
    expect((await twin(h, "user:c2-admin")).lastError).toBeTruthy();
  });
});

describe("removal wins", () => {
  it("user.deactivated carrying an email another IdP user owns still deactivates, and the conflict names the owner", async () => {
    await send(
      h,
      user("user.created", "rw-bob", "bob3@example.com"),
      user("user.created", "rw-carol", "carol3@example.com"),
    );
    await h.drain();
    const bob = ionosUser(h, "bob3@example.com")!.id;
    const carol = ionosUser(h, "carol3@example.com")!.id;
    const carolBefore = snapshotUser(h, carol);

    await send(h, user("user.deactivated", "rw-bob", "carol3@example.com"));
    await h.drain();

    expect(h.sim.sim.state.user(bob)?.properties).toMatchObject({
      email: "bob3@example.com",
      active: false,
    });
    expect(snapshotUser(h, carol)).toEqual(carolBefore);
    const reasons = await failureReasons(h, "user:rw-bob");
    expect(reasons).toMatch(/conflict/i);
    expect(reasons).toContain("rw-carol");
    expect((await twin(h, "user:rw-carol")).ionosId).toBe(carol);
  });

  it("leaving the admin group together with a name IONOS refuses (422) still demotes", async () => {
    await send(
      h,
      user("user.created", "rw-dave", "dave3@example.com"),
      group("group.created", "rw-admins", "ionos-admins", ["rw-dave"]),
    );
    await h.drain();
    const dave = ionosUser(h, "dave3@example.com")!.id;
    expect(h.sim.sim.state.user(dave)?.properties.administrator).toBe(true);

    await send(
      h,
      user("user.updated", "rw-dave", "dave3@example.com", {
        name: { givenName: "   ", familyName: "Dave" },
      }),
      members("group.members.removed", "rw-admins", ["rw-dave"]),
    );
    await h.drain();
    expect(h.sim.sim.state.user(dave)?.properties.administrator).toBe(false);
  });
});

describe("removal wins with onUserDeleted: deactivate", () => {
  let d: Harness;
  beforeAll(async () => {
    d = await startHarness({ mapping: `onUserDeleted: deactivate\n${issue8Mapping()}` });
  });
  afterAll(async () => await d?.stop());

  it("user.deleted of an administrator leaves its account inactive and no longer administrator", async () => {
    await send(
      d,
      user("user.created", "rw-erin", "erin3@example.com"),
      group("group.created", "rw-d-admins", "ionos-admins", ["rw-erin"]),
    );
    await d.drain();
    const erin = ionosUser(d, "erin3@example.com")!.id;
    expect(d.sim.sim.state.user(erin)?.properties.administrator).toBe(true);

    await send(d, deleted("user", "rw-erin"));
    await d.drain();
    expect(d.sim.sim.state.user(erin)?.properties).toMatchObject({
      active: false,
      administrator: false,
    });
    expect(d.sim.sim.state.userGroups(erin)).toEqual([]);
  });

  it("the deactivated account's address is free again: a new IdP user with it takes the account over, without the old rights", async () => {
    await send(
      d,
      user("user.created", "rw-old", "rehire@example.com"),
      group("group.created", "rw-r-admins", "ionos-admins", ["rw-old"]),
    );
    await d.drain();
    const account = ionosUser(d, "rehire@example.com")!.id;
    await send(d, deleted("user", "rw-old"));
    await d.drain();
    expect(d.sim.sim.state.user(account)?.properties.active).toBe(false);

    await send(d, user("user.created", "rw-new", "rehire@example.com"));
    await d.drain();
    expect((await twin(d, "user:rw-new")).ionosId).toBe(account);
    expect(d.sim.sim.state.user(account)?.properties).toMatchObject({
      active: true,
      administrator: false,
    });
    expect(d.sim.sim.state.userGroups(account)).toEqual([]);
    expect(await failureReasons(d, "user:rw-new")).toBe("");
  });
});
