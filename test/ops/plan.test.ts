/** computePlan() on hand-made snapshots: every action, protected users, unmanaged members. */
import { describe, expect, it } from "vitest";
import { type Mapping, parseMapping } from "../../src/config/mapping.ts";
import {
  IONOS_PRIVILEGES,
  type IonosGroup,
  type IonosUser,
} from "../../src/targets/ionos/types.ts";
import { computePlan } from "../../src/ops/reconcile/plan.ts";
import type { IonosSnapshot, WantedSnapshot } from "../../src/ops/reconcile/snapshot.ts";
import type { WantedGroup, WantedUser } from "../../src/store/wanted_state.ts";

const mapping = parseMapping(`
onUserDeleted: delete
administrators: ["admins"]
groups: { include: ["team-*", "admins"], privileges: { team-dev: [createDataCenter] } }
protectedEmails: ["owner@example.com"]
`);

function user(id: string, email: string, extra: Partial<WantedUser> = {}): WantedUser {
  const [first, last] = email.split("@")[0]!.split(".");
  return {
    id,
    email,
    firstName: first!,
    lastName: last!,
    active: true,
    deleted: false,
    t: 1,
    eventId: "e",
    ...extra,
  };
}
function ionosUser(id: string, email: string, extra: Partial<IonosUser["properties"]> = {}) {
  const [first, last] = email.split("@")[0]!.split(".");
  return {
    id,
    type: "user",
    properties: {
      firstname: first!,
      lastname: last!,
      email,
      administrator: false,
      forceSecAuth: false,
      secAuthActive: false,
      active: true,
      ...extra,
    },
  } as IonosUser;
}
function group(id: string, name: string, extra: Partial<WantedGroup> = {}): WantedGroup {
  return { id, displayName: name, deleted: false, t: 1, eventId: "e", ...extra };
}
function ionosGroup(id: string, name: string, privileges: string[] = []): IonosGroup {
  const properties = { name } as IonosGroup["properties"];
  for (const p of IONOS_PRIVILEGES) properties[p] = privileges.includes(p);
  return { id, type: "group", properties } as IonosGroup;
}

function snapshots(input: {
  users?: WantedUser[];
  groups?: WantedGroup[];
  members?: Record<string, string[]>;
  twins?: Record<string, string>; // "user:u1" -> ionos id
  ionosUsers?: IonosUser[];
  ionosGroups?: IonosGroup[];
  ionosMembers?: Record<string, string[]>;
}): [WantedSnapshot, IonosSnapshot] {
  const userTwins = new Map();
  const groupTwins = new Map();
  const managedUsers = new Map<string, string>();
  const managedGroups = new Map<string, string>();
  for (const [key, ionosId] of Object.entries(input.twins ?? {})) {
    const [kind, id] = key.split(":") as [string, string];
    (kind === "user" ? userTwins : groupTwins).set(id, { ionosId });
    (kind === "user" ? managedUsers : managedGroups).set(ionosId, id);
  }
  const members = new Map(Object.entries(input.members ?? {}));
  const userGroups = new Map<string, string[]>();
  for (const [gid, uids] of members) {
    for (const u of uids) userGroups.set(u, [...userGroups.get(u) ?? [], gid]);
  }
  const iu = input.ionosUsers ?? [];
  return [{
    users: new Map((input.users ?? []).map((u) => [u.id, u])),
    groups: new Map((input.groups ?? []).map((g) => [g.id, g])),
    members,
    userGroups,
    userTwins,
    groupTwins,
    managedUsers,
    managedGroups,
  }, {
    users: new Map(iu.map((u) => [u.id, u])),
    usersByEmail: new Map(iu.map((u) => [u.properties.email.toLowerCase(), u])),
    groups: new Map((input.ionosGroups ?? []).map((g) => [g.id, g])),
    members: new Map(Object.entries(input.ionosMembers ?? {}).map(([k, v]) => [k, new Set(v)])),
  }];
}

const plan = (m: Mapping, s: [WantedSnapshot, IonosSnapshot]) => computePlan(m, ...s);

describe("computePlan()", () => {
  it("reports nothing when IONOS matches", () => {
    const p = plan(
      mapping,
      snapshots({
        users: [user("u1", "ann.lee@example.com")],
        twins: { "user:u1": "i1" },
        ionosUsers: [ionosUser("i1", "ann.lee@example.com")],
      }),
    );
    expect(p.items).toEqual([]);
    expect(p.counts.update).toBe(0);
  });

  it("plans create, adopt, update, deactivate and delete for users", () => {
    const p = plan(
      mapping,
      snapshots({
        users: [
          user("new", "new.user@example.com"),
          user("adopt", "found.user@example.com"),
          user("edit", "edit.user@example.com"),
          user("off", "off.user@example.com", { active: false }),
          user("gone", "gone.user@example.com", { deleted: true }),
          user("boss", "owner@example.com", { deleted: true }),
        ],
        twins: {
          "user:edit": "i-edit",
          "user:off": "i-off",
          "user:gone": "i-gone",
          "user:boss": "i-b",
        },
        ionosUsers: [
          ionosUser("i-found", "found.user@EXAMPLE.com"), // emails match case-insensitively
          ionosUser("i-edit", "edit.user@example.com", { firstname: "Someone" }),
          ionosUser("i-off", "off.user@example.com"),
          ionosUser("i-gone", "gone.user@example.com"),
          ionosUser("i-b", "owner@example.com"),
        ],
      }),
    );
    const actions = Object.fromEntries(p.items.map((i) => [i.entity, i.action]));
    expect(actions).toEqual({
      "user:new": "create",
      "user:adopt": "adopt",
      "user:edit": "update",
      "user:off": "deactivate",
      "user:gone": "delete",
    });
    expect(p.counts).toMatchObject({ create: 1, adopt: 1, update: 1, deactivate: 1, delete: 1 });
    expect(p.entities).toHaveLength(5);
  });

  it("reports a conflict when the email's IONOS user belongs to another live IdP user", () => {
    const p = plan(
      mapping,
      snapshots({
        users: [user("a", "same.mail@example.com"), user("b", "same.mail@example.com")],
        twins: { "user:a": "i1" },
        ionosUsers: [ionosUser("i1", "same.mail@example.com")],
      }),
    );
    expect(p.items).toEqual([
      expect.objectContaining({ entity: "user:b", action: "conflict", ionosId: "i1" }),
    ]);
  });

  it("deactivates instead of deleting when the mapping says so", () => {
    const m = { ...mapping, onUserDeleted: "deactivate" as const };
    const s = snapshots({
      users: [user("gone", "gone.user@example.com", { deleted: true })],
      twins: { "user:gone": "i-gone" },
      ionosUsers: [ionosUser("i-gone", "gone.user@example.com")],
    });
    expect(plan(m, s).items.map((i) => i.action)).toEqual(["deactivate"]);
  });

  it("makes members of the administrators group administrators", () => {
    const p = plan(
      mapping,
      snapshots({
        users: [user("u1", "ann.lee@example.com")],
        groups: [group("g-adm", "admins")],
        members: { "g-adm": ["u1"] },
        twins: { "user:u1": "i1", "group:g-adm": "ig" },
        ionosUsers: [ionosUser("i1", "ann.lee@example.com")],
        ionosGroups: [ionosGroup("ig", "admins")],
        ionosMembers: { ig: ["i1"] },
      }),
    );
    expect(p.items).toEqual([
      expect.objectContaining({
        entity: "user:u1",
        action: "update",
        detail: expect.stringMatching(/administrator: false -> true/),
      }),
    ]);
  });

  it("plans group privileges and members, leaving unmanaged members alone", () => {
    const p = plan(
      mapping,
      snapshots({
        users: [user("u1", "ann.lee@example.com"), user("u2", "bo.ray@example.com")],
        groups: [group("g1", "team-dev"), group("g2", "other"), group("g3", "team-new")],
        members: { g1: ["u1"], g3: ["u1"] },
        twins: { "user:u1": "i1", "user:u2": "i2", "group:g1": "ig1" },
        ionosUsers: [
          ionosUser("i1", "ann.lee@example.com"),
          ionosUser("i2", "bo.ray@example.com"),
          ionosUser("i-x", "stranger@example.com"),
        ],
        ionosGroups: [ionosGroup("ig1", "team-dev")],
        ionosMembers: { ig1: ["i2", "i-x"] },
      }),
    );
    const byAction = (a: string) => p.items.filter((i) => i.action === a).map((i) => i.entity);
    expect(byAction("update")).toEqual(["group:g1"]); // createDataCenter missing
    expect(byAction("add-member")).toEqual(["group:g1", "group:g3"]);
    expect(byAction("remove-member")).toEqual(["group:g1"]); // bo, not the stranger
    expect(byAction("create")).toEqual(["group:g3"]); // "other" is not included
  });

  it("adopts an unmanaged group with the same name", () => {
    const p = plan(
      mapping,
      snapshots({
        groups: [group("g1", "team-ops")],
        ionosGroups: [ionosGroup("ig9", "team-ops")],
      }),
    );
    expect(p.items).toEqual([expect.objectContaining({ action: "adopt", ionosId: "ig9" })]);
  });
});
