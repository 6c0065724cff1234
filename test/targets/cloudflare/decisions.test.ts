/** The Cloudflare decisions from tables of cases: pure, no Redis, no HTTP. */
import { describe, expect, it } from "vitest";
import { Mapping } from "../../../src/config/mapping.ts";
import type { WantedGroup, WantedUser } from "../../../src/store/wanted_state.ts";
import type { CloudflareMember, CloudflareUserGroup } from "../../../src/targets/cloudflare/api.ts";
import {
  cloudflareMemberAdopts,
  type CloudflareMemberFacts,
  desiredCloudflareGroup,
  planCloudflareGroup,
  planCloudflareMember,
  planCloudflareMembership,
} from "../../../src/targets/cloudflare/decisions.ts";
import { CloudflareMapping } from "../../../src/targets/cloudflare/mapping.ts";

const ROLE = "05784afa30c1afe1440e79d9351c7430";
const PG1 = "c8fed203ed3043cba015a93ad1616f1f";
const PG2 = "82e64a83756745bbbb1c9c2701bf816b";
const RG = "6d7f2f5f5b1d4a0e9081fdc98d432fd1";

const mapping = Mapping.parse({ protectedEmails: ["root@example.com"] });
const section = CloudflareMapping.parse({
  memberRoles: [ROLE],
  groups: {
    include: ["cf-*"],
    policies: {
      "cf-dns-*": [{ permissionGroups: [PG2, PG1], resourceGroups: [RG] }],
      "cf-dns-admins": [{ permissionGroups: [PG1], resourceGroups: [RG] }],
    },
  },
});

const wanted = (over: Partial<WantedUser> = {}): WantedUser => ({
  id: "u1",
  email: "ada@example.com",
  active: true,
  deleted: false,
  t: 1,
  eventId: "e",
  ...over,
});
const member = (over: Partial<CloudflareMember> = {}): CloudflareMember => ({
  id: "m1",
  email: "ada@example.com",
  status: "accepted",
  roleIds: [ROLE],
  roleNames: ["Administrator Read Only"],
  ...over,
});
const facts = (over: Partial<CloudflareMemberFacts>): CloudflareMemberFacts => ({
  mapping,
  section,
  wanted: wanted(),
  current: undefined,
  origin: undefined,
  ...over,
});

describe("planCloudflareMember()", () => {
  const cases: [
    string,
    Partial<CloudflareMemberFacts>,
    unknown[],
    "conflict" | "note" | "info" | "-",
  ][] = [
    ["new user: invite with memberRoles", {}, [{
      op: "invite",
      email: "ada@example.com",
      roleIds: [ROLE],
    }], "-"],
    ["member in step: nothing", { current: member(), origin: "created" }, [], "-"],
    [
      "invitation pending: nothing, noted (holding nothing back)",
      { current: member({ status: "pending" }), origin: "created" },
      [],
      "info",
    ],
    [
      "an unmanaged pending invitation with this email: adopted like an accepted member",
      { current: member({ status: "pending" }) },
      [],
      "info",
    ],
    [
      "an unmanaged pending invitation under adopt.users none: a conflict",
      {
        mapping: Mapping.parse({ adopt: { users: "none" } }),
        current: member({ status: "pending" }),
      },
      [],
      "conflict",
    ],
    [
      "deactivated, invited by us: removed (no disable on Cloudflare)",
      {
        wanted: wanted({ active: false }),
        current: member(),
        origin: "created",
      },
      [{ op: "remove", memberId: "m1" }],
      "-",
    ],
    [
      "deleted, invited by us: removed",
      {
        wanted: wanted({ deleted: true }),
        current: member(),
        origin: "created",
      },
      [{ op: "remove", memberId: "m1" }],
      "-",
    ],
    [
      "pending invitation of a deleted user: withdrawn",
      {
        wanted: wanted({ deleted: true }),
        current: member({ status: "pending" }),
        origin: "created",
      },
      [{ op: "remove", memberId: "m1" }],
      "-",
    ],
    [
      "deleted, adopted: removed (the person's own Cloudflare user stays)",
      {
        wanted: wanted({ deleted: true }),
        current: member(),
        origin: "adopted",
      },
      [{ op: "remove", memberId: "m1" }],
      "-",
    ],
    [
      "deactivated, adopted: removed (Cloudflare cannot deactivate)",
      {
        wanted: wanted({ active: false }),
        current: member(),
        origin: "adopted",
      },
      [{ op: "remove", memberId: "m1" }],
      "-",
    ],
    [
      "no longer known to the IdP, adopted: removed",
      { wanted: undefined, current: member(), origin: "adopted" },
      [{ op: "remove", memberId: "m1" }],
      "-",
    ],
    [
      "deactivated, adopted administrator (adopt.users: all): removed",
      {
        wanted: wanted({ active: false }),
        current: member({ roleNames: ["Super Administrator - All Privileges"] }),
        origin: "adopted",
      },
      [{ op: "remove", memberId: "m1" }],
      "-",
    ],
    [
      "deleted, adopted, protected email: never touched",
      {
        wanted: wanted({ email: "root@example.com", deleted: true }),
        current: member({ email: "root@example.com" }),
        origin: "adopted",
      },
      [],
      "note",
    ],
    [
      "deactivated with a new email that is protected: its member is still removed",
      {
        wanted: wanted({ email: "root@example.com", active: false }),
        current: member(),
        origin: "adopted",
      },
      [{ op: "remove", memberId: "m1" }],
      "-",
    ],
    [
      "active with a new email that is protected: the member keeps its own, nothing invited",
      {
        wanted: wanted({ email: "root@example.com" }),
        current: member(),
        origin: "created",
      },
      [],
      "note",
    ],
    [
      "deleted, never managed: left alone",
      {
        wanted: wanted({ deleted: true }),
        current: member(),
      },
      [],
      "note",
    ],
    ["inactive and not a member: nothing", { wanted: wanted({ active: false }) }, [], "-"],
    [
      "protected email: nothing",
      {
        wanted: wanted({ email: "root@example.com", deleted: true }),
        current: member({ email: "root@example.com" }),
        origin: "created",
      },
      [],
      "note",
    ],
    [
      "moved to a protected email and deactivated: removed",
      {
        wanted: wanted({ email: "root@example.com", active: false }),
        current: member(),
        origin: "created",
      },
      [{ op: "remove", memberId: member().id }],
      "-",
    ],
    [
      "moved to a protected email, still active: kept, not re-invited",
      {
        wanted: wanted({ email: "root@example.com" }),
        current: member(),
        origin: "created",
      },
      [],
      "note",
    ],
    [
      "a protected email and no member yet: not invited",
      { wanted: wanted({ email: "root@example.com" }) },
      [],
      "note",
    ],
    [
      "existing super administrator, not ours: conflict under non-admin",
      {
        current: member({ roleNames: ["Super Administrator - All Privileges"] }),
      },
      [],
      "conflict",
    ],
    [
      "existing read-only member, not ours: adopted, nothing to change",
      { current: member() },
      [],
      "-",
    ],
    ["email changed, invited by us: old membership removed, then the new email invited", {
      wanted: wanted({ email: "ada.king@example.com" }),
      current: member(),
      origin: "created",
    }, [
      { op: "remove", memberId: "m1" },
      { op: "invite", email: "ada.king@example.com", roleIds: [ROLE] },
    ], "-"],
    [
      "email changed, adopted: conflict",
      {
        wanted: wanted({ email: "ada.king@example.com" }),
        current: member(),
        origin: "adopted",
      },
      [],
      "conflict",
    ],
    [
      "email differs only in case: nothing",
      {
        wanted: wanted({ email: "ADA@example.com" }),
        current: member(),
        origin: "created",
      },
      [],
      "-",
    ],
  ];
  it.each(cases)("%s", (_name, over, changes, flag) => {
    const plan = planCloudflareMember(facts(over));
    expect(plan.changes).toEqual(changes);
    expect(!!plan.conflict).toBe(flag === "conflict");
    expect(!!plan.note).toBe(flag === "note");
    expect(!!plan.info).toBe(flag === "info");
  });

  it("adopts an unmanaged pending invitation with the wanted email (model test, seed 389)", () => {
    const f = facts({ current: member({ status: "pending" }) });
    expect(cloudflareMemberAdopts(f, planCloudflareMember(f))).toBe(true);
  });

  it.each([false, true])(
    "an adopted member of a removed IdP user goes whatever deleteAdopted says (%s)",
    (deleteAdopted) => {
      for (const gone of [{ deleted: true }, { active: false }]) {
        const plan = planCloudflareMember(facts({
          mapping: Mapping.parse({ adopt: { deleteAdopted } }),
          wanted: wanted(gone),
          current: member(),
          origin: "adopted",
        }));
        expect(plan).toEqual({ changes: [{ op: "remove", memberId: "m1" }] });
      }
    },
  );

  it("deleteAdopted lets an adopted member's email change remove it and invite the new one", () => {
    const plan = planCloudflareMember(facts({
      mapping: Mapping.parse({ adopt: { deleteAdopted: true } }),
      wanted: wanted({ email: "ada.king@example.com" }),
      current: member(),
      origin: "adopted",
    }));
    expect(plan.changes.map((c) => c.op)).toEqual(["remove", "invite"]);
  });

  it("an empty memberRoles is a conflict, never an invite without a role", () => {
    const plan = planCloudflareMember(facts({ section: CloudflareMapping.parse({}) }));
    expect(plan.changes).toEqual([]);
    expect(plan.conflict).toMatch(/memberRoles/);
  });
});

const group = (over: Partial<WantedGroup> = {}): WantedGroup => ({
  id: "g1",
  displayName: "cf-dns-admins",
  deleted: false,
  t: 1,
  eventId: "e",
  ...over,
});

describe("desiredCloudflareGroup()", () => {
  it.each([
    ["included with policies from every matching pattern, merged", group(), {
      kind: "present",
      name: "cf-dns-admins",
      policies: [
        { access: "allow", permissionGroups: [PG1], resourceGroups: [RG] },
        { access: "allow", permissionGroups: [PG2, PG1].sort(), resourceGroups: [RG] },
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      mapped: true,
    }],
    ["included without policies", group({ displayName: "cf-other" }), {
      kind: "present",
      name: "cf-other",
      policies: [],
      mapped: false,
    }],
    ["not included", group({ displayName: "hr" }), { kind: "absent" }],
    ["deleted", group({ deleted: true }), { kind: "absent" }],
    ["unknown", undefined, { kind: "absent" }],
  ])("%s", (_name, w, expected) => {
    expect(desiredCloudflareGroup(section, w)).toEqual(expected);
  });
});

describe("planCloudflareGroup()", () => {
  const current = (over: Partial<CloudflareUserGroup> = {}): CloudflareUserGroup => ({
    id: "cg1",
    name: "cf-other",
    policies: [],
    ...over,
  });
  const present = desiredCloudflareGroup(section, group({ displayName: "cf-other" }));
  it.each(
    [
      ["absent in Cloudflare: create", present, undefined, undefined, [{
        op: "create",
        name: "cf-other",
        policies: [],
      }]],
      ["in step: nothing", present, current(), "created", []],
      [
        "policies differ: PUT",
        present,
        current({
          policies: [{ access: "allow", permissionGroups: [PG1], resourceGroups: [RG] }],
        }),
        "created",
        [{ op: "update", groupId: "cg1", name: "cf-other", policies: [] }],
      ],
      ["IdP deleted, created by us: delete", { kind: "absent" }, current(), "created", [{
        op: "delete",
        groupId: "cg1",
      }]],
      ["IdP deleted, adopted: kept", { kind: "absent" }, current(), "adopted", []],
    ] as const,
  )("%s", (_name, desired, cur, origin, changes) => {
    expect(planCloudflareGroup({ desired, current: cur, origin, mapping }).changes).toEqual(
      changes,
    );
  });
});

describe("planCloudflareGroup(): an adopted group's own policies", () => {
  const own = [{ access: "allow" as const, permissionGroups: [PG2], resourceGroups: [RG] }];
  const adopted: CloudflareUserGroup = { id: "cg2", name: "cf-other", policies: own };
  it.each(
    [
      ["adopted, no mapped policies: kept", "cf-other", "adopted", []],
      ["being adopted, no mapped policies: kept", "cf-other", undefined, []],
      ["created by us, no mapped policies: set to none", "cf-other", "created", [
        { op: "update", groupId: "cg2", name: "cf-other", policies: [] },
      ]],
      ["adopted, mapped policies: the mapping's", "cf-dns-x", "adopted", [
        {
          op: "update",
          groupId: "cg2",
          name: "cf-dns-x",
          policies: [{
            access: "allow",
            permissionGroups: [PG1, PG2].sort(),
            resourceGroups: [RG],
          }],
        },
      ]],
    ] as const,
  )("%s", (_name, name, origin, changes) => {
    const desired = desiredCloudflareGroup(section, group({ displayName: name }));
    expect(planCloudflareGroup({ desired, current: adopted, origin, mapping }).changes)
      .toEqual(changes);
  });
});

describe("planCloudflareMembership()", () => {
  const managed = new Set(["a", "b", "c", "d"]);
  it.each([
    ["in step", ["a", "b"], ["a", "b"], []],
    ["one joins", ["a", "b"], ["a"], [{ op: "add", memberIds: ["b"] }]],
    ["one leaves: removal before addition", ["a", "c"], ["a", "b"], [
      { op: "remove", memberId: "b" },
      { op: "add", memberIds: ["c"] },
    ]],
    ["a hand-added member is never removed", ["a"], ["a", "x"], []],
  ])("%s", (_name, wantedIds, currentIds, changes) => {
    expect(planCloudflareMembership({ wanted: wantedIds, current: currentIds, managed })).toEqual(
      changes,
    );
  });

  it("many changes and only managed members: one PUT replaces the list", () => {
    expect(
      planCloudflareMembership({
        wanted: ["c", "d"],
        current: ["a", "b"],
        managed,
        replaceAbove: 3,
      }),
    )
      .toEqual([{ op: "replace", memberIds: ["c", "d"] }]);
  });

  it("many changes but a hand-added member present: no PUT, removals and one add", () => {
    expect(
      planCloudflareMembership({
        wanted: ["c", "d"],
        current: ["a", "b", "x"],
        managed,
        replaceAbove: 3,
      }),
    )
      .toEqual([
        { op: "remove", memberId: "a" },
        { op: "remove", memberId: "b" },
        { op: "add", memberIds: ["c", "d"] },
      ]);
  });
});
