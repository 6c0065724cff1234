/**
 * Issue 8, cases 5 and 6, and the rules "Relations end with their entity" and "Out of scope means
 * removed": memberships end with a deleted (or out-of-scope) group or user, a late membership
 * change older than the delete is ignored, and an entity re-created with the same id starts empty.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../_support/harness.ts";
import {
  at,
  clock,
  deleted,
  group,
  ionosGroups,
  ionosUser,
  issue8Mapping,
  memberEmails,
  members,
  send,
  twin,
  user,
} from "./issue8_helpers.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ mapping: issue8Mapping() });
});
afterAll(async () => await h?.stop());

const groupTwin = async (id: string) => (await twin(h, `group:${id}`)).ionosId;

describe("issue 8 case 5: memberships outlive their group", () => {
  it("a group deleted and created again with the same id and no member list has no members, and gives no administrator rights", async () => {
    await send(
      h,
      user("user.created", "c5-user", "rel5@example.com"),
      group("group.created", "c5-admins", "ionos-admins", ["c5-user"]),
    );
    await h.drain();
    const account = ionosUser(h, "rel5@example.com")!.id;
    const first = (await groupTwin("c5-admins"))!;
    expect(memberEmails(h, first)).toEqual(["rel5@example.com"]);
    expect(h.sim.sim.state.user(account)?.properties.administrator).toBe(true);

    await send(h, deleted("group", "c5-admins"));
    await h.drain();
    expect(h.sim.sim.state.group(first)).toBeUndefined();
    expect(h.sim.sim.state.user(account)?.properties.administrator).toBe(false);

    await send(h, group("group.created", "c5-admins", "ionos-admins"));
    await h.drain();
    const second = (await groupTwin("c5-admins"))!;
    expect(h.sim.sim.state.group(second)?.properties.name).toBe("ionos-admins");
    expect(memberEmails(h, second)).toEqual([]);
    expect(h.sim.sim.state.user(account)?.properties.administrator).toBe(false);

    // Members sent after the re-creation count.
    await send(h, members("group.members.added", "c5-admins", ["c5-user"]));
    await h.drain();
    expect(memberEmails(h, second)).toEqual(["rel5@example.com"]);
    expect(h.sim.sim.state.user(account)?.properties.administrator).toBe(true);
  });
});

describe("relations end with their entity", () => {
  it("a membership add older than a group delete, arriving after it, is ignored once the group is re-created", async () => {
    const t = clock();
    await send(h, user("user.created", "rf-g-user", "rfg@example.com"));
    await send(h, at(t(0), group("group.created", "rf-g", "ionos-admins")));
    await send(h, at(t(20), deleted("group", "rf-g")));
    await send(h, at(t(10), members("group.members.added", "rf-g", ["rf-g-user"])));
    await send(h, at(t(30), group("group.created", "rf-g", "ionos-admins")));
    await h.drain();
    const g = (await groupTwin("rf-g"))!;
    expect(h.sim.sim.state.group(g)).toBeDefined();
    expect(memberEmails(h, g)).toEqual([]);
    expect(ionosUser(h, "rfg@example.com")?.properties.administrator).toBe(false);
  });

  it("a membership add older than a user delete, arriving after it, is ignored once the user is re-created; later adds count", async () => {
    const t = clock();
    await send(h, at(t(0), group("group.created", "rf-u-admins", "ionos-admins")));
    await send(h, at(t(0), user("user.created", "rf-u", "rfu@example.com")));
    await send(h, at(t(20), deleted("user", "rf-u")));
    await send(h, at(t(10), members("group.members.added", "rf-u-admins", ["rf-u"])));
    await send(h, at(t(30), user("user.created", "rf-u", "rfu@example.com")));
    await h.drain();
    const g = (await groupTwin("rf-u-admins"))!;
    expect(memberEmails(h, g)).toEqual([]);
    expect(ionosUser(h, "rfu@example.com")?.properties.administrator).toBe(false);

    await send(h, at(t(40), members("group.members.added", "rf-u-admins", ["rf-u"])));
    await h.drain();
    expect(memberEmails(h, g)).toEqual(["rfu@example.com"]);
    expect(ionosUser(h, "rfu@example.com")?.properties.administrator).toBe(true);
  });

  it("a user deleted and created again with the same id is in no group and not an administrator", async () => {
    await send(
      h,
      user("user.created", "rf-again", "again8@example.com"),
      group("group.created", "rf-again-admins", "ionos-admins", ["rf-again"]),
      group("group.created", "rf-again-team", "ionos-team-again", ["rf-again"]),
    );
    await h.drain();
    expect(ionosUser(h, "again8@example.com")?.properties.administrator).toBe(true);
    await send(h, deleted("user", "rf-again"));
    await h.drain();
    expect(ionosUser(h, "again8@example.com")).toBeUndefined();

    await send(h, user("user.created", "rf-again", "again8@example.com"));
    await h.drain();
    const account = ionosUser(h, "again8@example.com")!;
    expect(account.properties.administrator).toBe(false);
    expect(h.sim.sim.state.userGroups(account.id)).toEqual([]);
  });
});

describe("issue 8 case 6: out of scope, out of reach", () => {
  it("a group the service created and renamed out of groups.include is deleted in IONOS, so a member removed afterwards keeps nothing; renamed back in, it is synced again", async () => {
    await send(
      h,
      user("user.created", "c6-a", "c6a@example.com"),
      user("user.created", "c6-b", "c6b@example.com"),
      group("group.created", "c6-team", "ionos-team6", ["c6-a", "c6-b"]),
    );
    await h.drain();
    const first = (await groupTwin("c6-team"))!;
    expect(memberEmails(h, first)).toEqual(["c6a@example.com", "c6b@example.com"]);

    await send(h, group("group.updated", "c6-team", "team6"));
    await h.drain();
    expect(h.sim.sim.state.group(first)).toBeUndefined();
    for (const email of ["c6a@example.com", "c6b@example.com"]) {
      expect(h.sim.sim.state.userGroups(ionosUser(h, email)!.id)).toEqual([]);
    }

    await send(h, members("group.members.removed", "c6-team", ["c6-a"]));
    await send(h, group("group.updated", "c6-team", "ionos-team6"));
    await h.drain();
    const again = ionosGroups(h, "ionos-team6");
    expect(again).toHaveLength(1);
    expect(await groupTwin("c6-team")).toBe(again[0]!.id);
    expect(memberEmails(h, again[0]!.id)).toEqual(["c6b@example.com"]);
  });

  it("the admin group renamed out of scope takes administrator rights away", async () => {
    await send(
      h,
      user("user.created", "c6-admin", "c6admin@example.com"),
      group("group.created", "c6-admins", "ionos-admins", ["c6-admin"]),
    );
    await h.drain();
    expect(ionosUser(h, "c6admin@example.com")?.properties.administrator).toBe(true);
    await send(h, group("group.updated", "c6-admins", "former-admins"));
    await h.drain();
    const account = ionosUser(h, "c6admin@example.com")!;
    expect(account.properties.administrator).toBe(false);
    expect(h.sim.sim.state.userGroups(account.id)).toEqual([]);
  });

  it("an adopted group renamed out of scope keeps its name, privileges and hand-added members but loses the managed ones; renamed back in, they return", async () => {
    const state = h.sim.sim.state;
    const shared = state.addGroup({ name: "ionos-shared", reserveIp: true });
    const hand = state.addUser({ firstname: "Hand", lastname: "Six", email: "hand6@example.com" });
    state.addMember(shared.id, hand.id);
    await send(
      h,
      user("user.created", "c6-m", "c6m@example.com"),
      group("group.created", "c6-shared", "ionos-shared", ["c6-m"]),
    );
    await h.drain();
    expect(await groupTwin("c6-shared")).toBe(shared.id);
    expect(memberEmails(h, shared.id)).toEqual(["c6m@example.com", "hand6@example.com"]);

    await send(h, group("group.updated", "c6-shared", "shared"));
    await h.drain();
    expect(state.group(shared.id)?.properties).toEqual(shared.properties);
    expect(memberEmails(h, shared.id)).toEqual(["hand6@example.com"]);

    await send(h, group("group.updated", "c6-shared", "ionos-shared"));
    await h.drain();
    expect(ionosGroups(h, "ionos-shared").map((g) => g.id)).toEqual([shared.id]);
    expect(memberEmails(h, shared.id)).toEqual(["c6m@example.com", "hand6@example.com"]);
  });
});

describe("a delete that is stale for the entity still ends the older relations", () => {
  it("group.deleted arriving after a newer update of the group ends the memberships older than the delete", async () => {
    const t = clock();
    await send(h, user("user.created", "st-g-user", "stg@example.com"));
    await send(
      h,
      at(t(0), group("group.created", "st-g", "ionos-admins")),
      at(t(10), members("group.members.added", "st-g", ["st-g-user"])),
      at(t(30), group("group.updated", "st-g", "ionos-admins")),
    );
    await h.drain();
    const g = (await groupTwin("st-g"))!;
    expect(memberEmails(h, g)).toEqual(["stg@example.com"]);
    expect(ionosUser(h, "stg@example.com")?.properties.administrator).toBe(true);

    await send(h, at(t(20), deleted("group", "st-g")));
    await h.drain();
    expect(h.sim.sim.state.group(g)).toBeDefined();
    expect(memberEmails(h, g)).toEqual([]);
    expect(ionosUser(h, "stg@example.com")?.properties.administrator).toBe(false);
  });

  it("user.deleted arriving after the user's re-creation ends the memberships older than the delete", async () => {
    const t = clock();
    await send(
      h,
      at(t(0), user("user.created", "st-u", "stu@example.com")),
      at(t(0), group("group.created", "st-u-admins", "ionos-admins")),
      at(t(10), members("group.members.added", "st-u-admins", ["st-u"])),
      at(t(30), user("user.created", "st-u", "stu@example.com")),
    );
    await h.drain();
    const g = (await groupTwin("st-u-admins"))!;
    expect(ionosUser(h, "stu@example.com")?.properties.administrator).toBe(true);

    await send(h, at(t(20), deleted("user", "st-u")));
    await h.drain();
    const account = ionosUser(h, "stu@example.com")!;
    expect(account.properties.administrator).toBe(false);
    expect(memberEmails(h, g)).toEqual([]);
  });
});
