/**
 * computePlan() for shares and S3 keys on hand-made snapshots: the items reconcile reports are
 * the ones the group and user jobs would write (same decisions, src/targets/ionos/access_decisions.ts).
 */
import { describe, expect, it } from "vitest";
import { parseMapping } from "../../src/config/mapping.ts";
import {
  IONOS_PRIVILEGES,
  type IonosGroup,
  type IonosUser,
} from "../../src/targets/ionos/types.ts";
import { computePlan } from "../../src/ops/reconcile/plan.ts";
import type { IonosSnapshot, TwinFacts, WantedSnapshot } from "../../src/ops/reconcile/snapshot.ts";
import type { WantedGroup, WantedUser } from "../../src/store/wanted_state.ts";

const R1 = "11111111-1111-4111-8111-111111111111";
const R2 = "22222222-2222-4222-8222-222222222222";
const R9 = "99999999-9999-4999-8999-999999999999";

const mapping = parseMapping(`
onUserDeleted: deactivate
groups:
  include: ["team-*"]
  shares: { team-a: [{ resource: "${R1}", edit: true }, { resource: "${R9}" }] }
protectedEmails: ["owner@example.com"]
`);

const wantedUser = (id: string, email: string, active: boolean, deleted = false): WantedUser => ({
  id,
  email,
  firstName: "F",
  lastName: "L",
  active,
  deleted,
  t: 1,
  eventId: "e",
});
const ionosUser = (id: string, email: string, active: boolean) =>
  ({
    id,
    type: "user",
    properties: {
      firstname: "F",
      lastname: "L",
      email,
      administrator: false,
      forceSecAuth: false,
      secAuthActive: false,
      active,
    },
  }) as IonosUser;
const ionosGroup = (id: string, name: string) => {
  const properties = { name } as IonosGroup["properties"];
  for (const p of IONOS_PRIVILEGES) properties[p] = false;
  return { id, type: "group", properties } as IonosGroup;
};

function plan(input: {
  users?: [WantedUser, TwinFacts, IonosUser][];
  groups?: [WantedGroup, TwinFacts, IonosGroup][];
  shares?: Record<string, [string, boolean, boolean][]>;
  keys?: Record<string, [string, boolean][]>;
  resources?: string[];
}) {
  const wanted: WantedSnapshot = {
    users: new Map((input.users ?? []).map(([u]) => [u.id, u])),
    groups: new Map((input.groups ?? []).map(([g]) => [g.id, g])),
    members: new Map((input.groups ?? []).map(([g]) => [g.id, []])),
    userGroups: new Map(),
    userTwins: new Map((input.users ?? []).map(([u, t]) => [u.id, t])),
    groupTwins: new Map((input.groups ?? []).map(([g, t]) => [g.id, t])),
    managedUsers: new Map((input.users ?? []).map(([u, t]) => [t.ionosId!, u.id])),
    managedGroups: new Map((input.groups ?? []).map(([g, t]) => [t.ionosId!, g.id])),
  };
  const users = new Map((input.users ?? []).map(([, , i]) => [i.id, i]));
  const ionos: IonosSnapshot = {
    users,
    usersByEmail: new Map([...users.values()].map((u) => [u.properties.email, u])),
    groups: new Map((input.groups ?? []).map(([, , i]) => [i.id, i])),
    members: new Map((input.groups ?? []).map(([, , i]) => [i.id, new Set()])),
    shares: new Map(
      Object.entries(input.shares ?? {}).map(([gid, list]) => [
        gid,
        new Map(list.map(([r, edit, share]) => [r, { edit, share }])),
      ]),
    ),
    s3Keys: new Map(
      Object.entries(input.keys ?? {}).map(([uid, list]) => [
        uid,
        list.map(([id, active]) => ({ id, active })),
      ]),
    ),
    ...(input.resources ? { resources: new Set(input.resources) } : {}),
  };
  return computePlan(mapping, wanted, ionos).items.map((i) => `${i.action} ${i.detail}`);
}

const teamA = { id: "ga", displayName: "team-a", deleted: false, t: 1, eventId: "e" };

describe("computePlan(): shares", () => {
  it("reports a missing share, a lowered flag to undo and the unknown resource by group and id", () => {
    const items = plan({
      groups: [[
        teamA,
        { ionosId: "G", origin: "created", managedShares: `${R1}:c,${R2}:c` },
        ionosGroup("G", "team-a"),
      ]],
      shares: { G: [[R2, true, false]] },
      resources: [R1, R2],
    });
    expect(items).toEqual([
      `unshare delete ${R2}`,
      `share create ${R1} (edit true, share false)`,
      `conflict group "team-a" (IdP ga) is given unknown IONOS resource ${R9} (not in GET /um/resources)`,
    ]);
  });

  it("says nothing about hand-made shares, and puts taken-over ones back when the group ends", () => {
    const ended = { ...teamA, deleted: true };
    const items = plan({
      groups: [[
        ended,
        { ionosId: "G", origin: "adopted", managedShares: `${R1}:01` },
        ionosGroup("G", "team-a"),
      ]],
      shares: { G: [[R1, true, false], [R2, true, true]] },
    });
    expect(items).toEqual([`unshare update ${R1} (edit false, share true)`]);
  });

  it("reports nothing for shares it did not read", () => {
    const items = plan({
      groups: [[teamA, { ionosId: "G", origin: "created" }, ionosGroup("G", "team-a")]],
    });
    expect(items).toEqual([]);
  });
});

describe("computePlan(): S3 keys", () => {
  it.each([
    {
      name: "a deactivated account with a key on again",
      user: wantedUser("u1", "a@example.com", false),
      active: false,
      recorded: "K1",
      keys: [["K1", true], ["K2", false]] as [string, boolean][],
      expected: ["close-s3-keys deactivate K1"],
    },
    {
      name: "a reactivated account with keys turned off by the sync",
      user: wantedUser("u1", "a@example.com", true),
      active: true,
      recorded: "K1",
      keys: [["K1", false], ["K2", false]] as [string, boolean][],
      expected: ["reopen-s3-keys activate K1"],
    },
    {
      name: "a delete that only deactivates (onUserDeleted: deactivate)",
      user: wantedUser("u1", "a@example.com", true, true),
      active: false,
      recorded: "",
      keys: [["K1", true]] as [string, boolean][],
      expected: ["close-s3-keys deactivate K1"],
    },
    {
      name: "a protected account",
      user: wantedUser("u1", "owner@example.com", false),
      active: true,
      recorded: "",
      keys: [["K1", true]] as [string, boolean][],
      expected: [],
    },
  ])("$name", ({ user, active, recorded, keys, expected }) => {
    const items = plan({
      users: [[
        user,
        { ionosId: "U", origin: "created", s3KeysOff: recorded },
        ionosUser("U", user.email!, active),
      ]],
      keys: { U: keys },
    });
    expect(items.filter((i) => i.includes("s3-keys"))).toEqual(expected);
  });
});
