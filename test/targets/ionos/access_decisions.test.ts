/** Tables for the pure share and S3 key decisions (src/targets/ionos/access_decisions.ts). */
import { describe, expect, it } from "vitest";
import { parseMapping } from "../../../src/config/mapping.ts";
import {
  formatRecordedShares,
  mayTouchS3Keys,
  parseRecordedKeys,
  parseRecordedShares,
  s3KeyChanges,
  shareChanges,
  type ShareFlags,
  type ShareOrigin,
} from "../../../src/targets/ionos/access_decisions.ts";

const R1 = "11111111-1111-4111-8111-111111111111";
const R2 = "22222222-2222-4222-8222-222222222222";
const R3 = "33333333-3333-4333-8333-333333333333";
const f = (edit: boolean, share: boolean): ShareFlags => ({ edit, share });
const want = (resource: string, edit = false, share = false) => ({ resource, edit, share });

type Row = {
  name: string;
  wanted: ReturnType<typeof want>[];
  actual: [string, ShareFlags][];
  recorded: [string, ShareOrigin][];
  known?: string[];
  reduce: string[];
  grant: string[];
  after: string;
  unknown?: string[];
  handMade?: string[];
};

const describeWrite = (w: { resource: string; op: string; flags?: ShareFlags }) =>
  `${w.op} ${w.resource.slice(0, 2)}${w.flags ? ` ${+w.flags.edit}${+w.flags.share}` : ""}`;

describe("shareChanges()", () => {
  it.each<Row>([
    {
      name: "creates a wanted share that is missing",
      wanted: [want(R1, true)],
      actual: [],
      recorded: [],
      known: [R1],
      reduce: [],
      grant: ["create 11 10"],
      after: `${R1}:c`,
    },
    {
      name: "changes nothing when IONOS already matches",
      wanted: [want(R1, true)],
      actual: [[R1, f(true, false)]],
      recorded: [[R1, "created"]],
      reduce: [],
      grant: [],
      after: `${R1}:c`,
    },
    {
      name: "lowers flags first, then raises the other one (removal wins)",
      wanted: [want(R1, false, true)],
      actual: [[R1, f(true, false)]],
      recorded: [[R1, "created"]],
      reduce: ["update 11 00"],
      grant: ["update 11 01"],
      after: `${R1}:c`,
    },
    {
      name: "deletes a share it created that the mapping dropped",
      wanted: [],
      actual: [[R1, f(true, true)]],
      recorded: [[R1, "created"]],
      reduce: ["delete 11"],
      grant: [],
      after: "",
    },
    {
      name: "never removes a share it did not set",
      wanted: [],
      actual: [[R1, f(true, true)], [R2, f(false, false)]],
      recorded: [[R2, "created"]],
      reduce: ["delete 22"],
      grant: [],
      after: "",
      handMade: [R1],
    },
    {
      name: "takes over a hand-made share the mapping names, keeping its flags",
      wanted: [want(R1, true, true)],
      actual: [[R1, f(false, false)]],
      recorded: [],
      reduce: [],
      grant: ["update 11 11"],
      after: `${R1}:00`,
    },
    {
      name: "puts a taken-over share back as it was when the mapping drops it",
      wanted: [],
      actual: [[R1, f(true, true)]],
      recorded: [[R1, f(false, true)]],
      reduce: ["update 11 01"],
      grant: [],
      after: "",
    },
    {
      name: "only forgets a recorded share already gone from IONOS",
      wanted: [],
      actual: [],
      recorded: [[R1, "created"]],
      reduce: [],
      grant: [],
      after: "",
    },
    {
      name: "recreates a wanted share deleted by hand",
      wanted: [want(R1)],
      actual: [],
      recorded: [[R1, "created"]],
      known: [R1],
      reduce: [],
      grant: ["create 11 00"],
      after: `${R1}:c`,
    },
    {
      name: "does not write a resource GET /um/resources does not list, and reports it",
      wanted: [want(R1), want(R3, true)],
      actual: [],
      recorded: [],
      known: [R1],
      reduce: [],
      grant: ["create 11 00"],
      after: `${R1}:c`,
      unknown: [R3],
    },
  ])("$name", (row) => {
    const plan = shareChanges(
      row.wanted,
      new Map(row.actual),
      new Map(row.recorded),
      row.known ? new Set(row.known) : undefined,
    );
    expect(plan.reduce.map(describeWrite)).toEqual(row.reduce);
    expect(plan.grant.map(describeWrite)).toEqual(row.grant);
    expect(formatRecordedShares(plan.recordAfter)).toBe(row.after);
    expect(plan.unknown).toEqual(row.unknown ?? []);
    expect(plan.handMade).toEqual(row.handMade ?? []);
    // Every share about to be set is recorded before its write.
    for (const w of plan.grant.filter((w) => w.op === "create")) {
      expect(plan.recordBefore.get(w.resource)).toBe("created");
    }
  });

  it("reads back what it writes", () => {
    const recorded = new Map<string, ShareOrigin>([[R2, f(true, false)], [R1, "created"]]);
    const text = formatRecordedShares(recorded);
    expect(text).toBe(`${R1}:c,${R2}:10`);
    expect(parseRecordedShares(text)).toEqual(recorded);
    expect(parseRecordedShares(undefined)).toEqual(new Map());
  });
});

describe("s3KeyChanges()", () => {
  const keys = [{ id: "A", active: true }, { id: "B", active: true }, { id: "C", active: false }];
  it.each([
    {
      name: "deactivate: turns active keys off and records them",
      policy: "deactivate" as const,
      active: false,
      recorded: [],
      expected: { deactivate: ["A", "B"], delete: [], activate: [], recordAfter: ["A", "B"] },
    },
    {
      name: "deactivate: a key turned on by hand is turned off again and stays recorded",
      policy: "deactivate" as const,
      active: false,
      recorded: ["B"],
      expected: { deactivate: ["A", "B"], delete: [], activate: [], recordAfter: ["A", "B"] },
    },
    {
      name: "delete: deletes every key, active or not",
      policy: "delete" as const,
      active: false,
      recorded: [],
      expected: { deactivate: [], delete: ["A", "B", "C"], activate: [], recordAfter: [] },
    },
    {
      name: "keep: writes nothing",
      policy: "keep" as const,
      active: false,
      recorded: [],
      expected: { deactivate: [], delete: [], activate: [], recordAfter: [] },
    },
    {
      name: "reactivation: turns on only the recorded keys that are off",
      policy: "deactivate" as const,
      active: true,
      recorded: ["C", "B", "GONE"],
      expected: { deactivate: [], delete: [], activate: ["C"], recordAfter: [] },
    },
    {
      name: "reactivation: nothing recorded, nothing turned on",
      policy: "keep" as const,
      active: true,
      recorded: [],
      expected: { deactivate: [], delete: [], activate: [], recordAfter: [] },
    },
  ])("$name", ({ policy, active, recorded, expected }) => {
    const plan = s3KeyChanges(policy, active, keys, recorded);
    expect({
      deactivate: plan.deactivate,
      delete: plan.delete,
      activate: plan.activate,
      recordAfter: plan.recordAfter,
    }).toEqual(expected);
    // What is about to be turned off is recorded before the writes.
    for (const id of plan.deactivate) expect(plan.recordBefore).toContain(id);
  });

  it.each([
    { name: "managed, unprotected", managed: "u-1", email: "a@example.com", may: true },
    { name: "unmanaged", managed: undefined, email: "a@example.com", may: false },
    { name: "managed under another id", managed: "u-2", email: "a@example.com", may: false },
    { name: "protected (any case)", managed: "u-1", email: "Owner@Example.com", may: false },
  ])("mayTouchS3Keys: $name -> $may", ({ managed, email, may }) => {
    const mapping = parseMapping(`protectedEmails: ["owner@example.com"]`);
    expect(mayTouchS3Keys(mapping, managed, "u-1", email)).toBe(may);
  });

  it("parseRecordedKeys reads the comma list, empty for nothing", () => {
    expect(parseRecordedKeys("A,B")).toEqual(["A", "B"]);
    expect(parseRecordedKeys("")).toEqual([]);
    expect(parseRecordedKeys(undefined)).toEqual([]);
  });
});

describe("mapping: groups.shares and offboarding", () => {
  it("defaults offboarding.s3Keys to deactivate and shares to none", () => {
    const m = parseMapping("");
    expect(m.offboarding.s3Keys).toBe("deactivate");
    expect(m.groups.shares).toEqual({});
  });

  it("reads shares with flag defaults and lower-cases resource ids", () => {
    const m = parseMapping(
      `groups:\n  include: ["ionos-*"]\n  shares:\n    ionos-a: [{ resource: "${R1.toUpperCase()}", edit: true }]\n`,
    );
    expect(m.groups.shares["ionos-a"]).toEqual([{ resource: R1, edit: true, share: false }]);
  });

  it.each([
    [`groups: { shares: { g: [{ resource: "not-a-uuid" }] } }`, "must be a UUID"],
    [
      `groups: { include: ["ionos-*"], shares: { other: [{ resource: "${R1}" }] } }`,
      `group "other" is not synced`,
    ],
    [`groups: { shares: { g: [{ resource: "${R1}" }, { resource: "${R1}" }] } }`, "twice"],
    [`groups: { shares: { g: [{ resource: "${R1}", write: true }] } }`, "write"],
    [`offboarding: { s3Keys: revoke }`, "offboarding.s3Keys"],
  ])("refuses %s", (text, message) => {
    expect(() => parseMapping(text)).toThrow(message);
  });
});
