/**
 * Hostile requests for the SCIM service provider (`/scim/v2`): invalid Users and Groups for
 * POST and PUT, broken PATCH operations, malformed bodies, hostile filters, wrong credentials.
 *
 * SCIM servers are lenient by RFC 7644 and by necessity (Entra sends "True" for true, Okta a
 * number for a string, one object where a list belongs), so the wrong values here are the ones
 * this server documents as refused (src/scim/normalize.ts), not every other JSON type.
 */
import type { FuzzCase } from "./cases.ts";
import { type FieldSpec, invalidVariant, malformedBody, renderJson } from "./json_mutations.ts";
import { NASTY_STRINGS, randomUnits, type Rng } from "./random.ts";

const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/** What normalize.ts refuses for a single-valued string, boolean, complex or multi-valued. */
const NOT_STRING = [true, false, [], ["a"], { k: "v" }];
const NOT_BOOLEAN = [0, 1, "yes", "", [], { k: true }];
const NOT_OBJECT = ["text", 42, true, [[]]];
const NOT_LIST_OF_OBJECTS = ["text", 42, true, [1], ["a"], [[{}]]];

const str = (path: FieldSpec["path"], required = false): FieldSpec => ({
  path,
  kind: "string",
  max: 1024,
  required,
  sprinkle: true,
  wrong: NOT_STRING,
});

const USER = {
  schemas: [USER_SCHEMA],
  userName: "fz.scim@example.com",
  externalId: "ext-fz",
  displayName: "Fuzz Scim",
  name: { givenName: "Fuzz", familyName: "Scim" },
  emails: [{ value: "fz.scim@example.com", primary: true, type: "work" }],
  active: true,
};
const USER_FIELDS: FieldSpec[] = [
  str(["userName"], true),
  str(["externalId"]),
  str(["displayName"]),
  { path: ["name"], kind: "object", wrong: NOT_OBJECT },
  str(["name", "givenName"]),
  str(["name", "familyName"]),
  { path: ["emails"], kind: "array", max: 100, wrong: NOT_LIST_OF_OBJECTS },
  str(["emails", 0, "value"]),
  { path: ["emails", 0, "primary"], kind: "boolean", wrong: NOT_BOOLEAN },
  { path: ["active"], kind: "boolean", wrong: NOT_BOOLEAN },
];

const GROUP = {
  schemas: [GROUP_SCHEMA],
  displayName: "fuzz-scim-group",
  externalId: "ext-g",
  members: [{ value: "member-1" }],
};
const GROUP_FIELDS: FieldSpec[] = [
  str(["displayName"], true),
  str(["externalId"]),
  { path: ["members"], kind: "array", wrong: NOT_LIST_OF_OBJECTS },
  // Not `required`: a member with no known attribute is dropped, as unknown attributes are.
  { path: ["members", 0, "value"], kind: "string", wrong: NOT_STRING },
];

/** PATCH bodies that are wrong by RFC 7644 §3.5.2 or would remove a required attribute. */
function invalidPatch(rng: Rng, userId: string): { kind: string; body: string } {
  const op = (o: Record<string, unknown>) =>
    JSON.stringify({ schemas: [PATCH_OP], Operations: [o] });
  const nasty = rng.pick(NASTY_STRINGS);
  const options: (() => { kind: string; body: string })[] = [
    () => ({ kind: "patch: no operations", body: JSON.stringify({ schemas: [PATCH_OP] }) }),
    () => ({
      kind: "patch: operations not a list",
      body: JSON.stringify({ schemas: [PATCH_OP], Operations: rng.pick(["x", 1, true]) }),
    }),
    () => ({ kind: "patch: unknown op", body: op({ op: nasty, path: "displayName", value: "x" }) }),
    () => ({ kind: "patch: op not a string", body: op({ op: rng.pick([1, [], {}]), value: {} }) }),
    () => ({ kind: "patch: remove required", body: op({ op: "remove", path: "userName" }) }),
    () => ({
      kind: "patch: wrong value type",
      body: op({ op: "replace", path: "userName", value: rng.pick(NOT_STRING) }),
    }),
    () => ({
      kind: "patch: huge value",
      body: op({
        op: "replace",
        path: "displayName",
        value: randomUnits(rng, 1025 + rng.int(0, 5000)),
      }),
    }),
    () => ({
      kind: "patch: broken path",
      body: op({
        op: "replace",
        path: rng.pick(['emails[type eq "work"', "emails[", "name..givenName", "]", `a${nasty}`]),
        value: "x",
      }),
    }),
    () => ({
      kind: "patch: too many operations",
      body: JSON.stringify({
        schemas: [PATCH_OP],
        Operations: Array.from(
          { length: 1001 },
          () => ({ op: "replace", path: "title", value: "t" }),
        ),
      }),
    }),
    () => ({
      kind: "patch: lone surrogate value",
      body: op({ op: "replace", path: "displayName", value: `x${rng.pick(["\ud800", "\udfff"])}` }),
    }),
    () => ({
      kind: "patch: id changed",
      body: op({ op: "replace", value: { id: `not-${userId}` } }),
    }),
  ];
  return rng.pick(options)();
}

/** Filters that are not SCIM filters, or are hostile ones (deep, long, nasty). */
function hostileFilter(rng: Rng): string {
  const depth = rng.int(50, 5000);
  return rng.pick([
    () => "(".repeat(depth) + 'userName eq "a"' + ")".repeat(depth),
    () => 'userName eq "a" and '.repeat(rng.int(10, 400)) + 'userName eq "b"',
    () => `userName eq "${rng.pick(NASTY_STRINGS)}`,
    () => `${rng.pick(NASTY_STRINGS)} eq "x"`,
    () => `userName ${rng.pick(["eqq", "==", "like", "", "pr pr"])} "x"`,
    () => 'emails[type eq "work" and value co "@"',
    () => 'emails[emails[value eq "x"]]',
    () => "userName eq " + "9".repeat(rng.int(20, 400)),
    () => randomUnits(rng, rng.int(1, 300)),
    () => `meta.lastModified gt "${rng.pick(["yesterday", "2026-13-45T99:99:99Z", ""])}"`,
    () => `active eq ${rng.pick(['"maybe"', "1", "null", "tru"])}`,
  ])();
}

export interface ScimFuzzOptions {
  scimToken: string;
  otherTokens: string[];
  /** An existing user's and group's SCIM ids, for PUT and PATCH. */
  userId: string;
  groupId: string;
}

export function scimCases(rng: Rng, count: number, options: ScimFuzzOptions): FuzzCase[] {
  const headers = {
    "content-type": "application/scim+json",
    authorization: `Bearer ${options.scimToken}`,
  };
  const req = (
    kind: string,
    method: string,
    path: string,
    body?: string | Uint8Array<ArrayBuffer>,
  ): FuzzCase => ({
    kind,
    method,
    path,
    headers,
    ...(body !== undefined ? { body } : {}),
    expect: "reject",
  });
  const cases: FuzzCase[] = [];
  for (let i = 0; i < count; i++) {
    const roll = rng.next();
    const isUser = rng.chance(0.6);
    const [template, fields, collection, id] = isUser
      ? [USER, USER_FIELDS, "Users", options.userId]
      : [GROUP, GROUP_FIELDS, "Groups", options.groupId];
    const method = rng.chance(0.7) ? "POST" : "PUT";
    const path = method === "POST" ? `/scim/v2/${collection}` : `/scim/v2/${collection}/${id}`;
    if (roll < 0.55) {
      const v = invalidVariant(rng, template, fields, 300_000);
      cases.push(req(`${v.kind}`, method, path, renderJson(v.value)));
    } else if (roll < 0.7) {
      const v = invalidVariant(rng, template, fields, 300_000);
      const m = malformedBody(rng, JSON.stringify(template), renderJson(v.value));
      cases.push(req(m.kind, method, path, m.body));
    } else if (roll < 0.85) {
      const p = invalidPatch(rng, options.userId);
      cases.push(req(p.kind, "PATCH", `/scim/v2/Users/${options.userId}`, p.body));
    } else {
      // Lone surrogates cannot be percent-encoded; raw bad escapes go in as they are.
      const filter = encodeURIComponent(hostileFilter(rng).toWellFormed()) +
        (rng.chance(0.2) ? rng.pick(["%", "%E", "%ED%A0%80", "%FF%FE", "%00", "%zz"]) : "");
      cases.push({
        ...req("hostile filter", "GET", `/scim/v2/${collection}?filter=${filter}`),
        expect: "safe",
      });
    }
  }
  const valid = JSON.stringify({ ...USER, userName: "fz.unauth@example.com" });
  const wrongAuth: [string, Record<string, string>][] = [
    ["no credentials", { "content-type": "application/scim+json" }],
    ["wrong bearer", { ...headers, authorization: "Bearer wrong-wrong-wrong-wrong" }],
    ["token as Basic", { ...headers, authorization: `Basic ${btoa(`scim:${options.scimToken}`)}` }],
    ...options.otherTokens.map((t): [string, Record<string, string>] => [
      "another surface's token",
      { ...headers, authorization: `Bearer ${t}` },
    ]),
  ];
  for (const [kind, h] of wrongAuth) {
    for (
      const [method, path] of [["POST", "/scim/v2/Users"], ["GET", "/scim/v2/Users"], [
        "DELETE",
        `/scim/v2/Users/${options.userId}`,
      ]]
    ) {
      cases.push({ kind, method: method!, path: path!, headers: h, body: valid, expect: "reject" });
    }
  }
  return cases;
}
