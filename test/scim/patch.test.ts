/** PATCH edge cases from Okta, Entra ID and RFC 7644, table-driven: no Redis. */
import { describe, expect, it } from "vitest";
import { ScimError, type ScimType } from "../../src/scim/errors.ts";
import { type Attributes, normalizeAttributes } from "../../src/scim/normalize.ts";
import { applyPatch } from "../../src/scim/patch.ts";
import { GROUP_TYPE, type ResourceTypeDef, USER_TYPE } from "../../src/scim/schema.ts";
import { ENTERPRISE_USER_SCHEMA, PATCH_OP } from "../../src/scim/urns.ts";

const user: Attributes = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
  id: "u-ada",
  userName: "ada@example.com",
  name: { givenName: "Ada", familyName: "Lovelace" },
  displayName: "Ada Lovelace",
  active: true,
  emails: [{ value: "ada@example.com", type: "work", primary: true }],
  meta: { resourceType: "User", created: "2024-01-01T00:00:00.000Z" },
};
const group: Attributes = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  id: "g-eng",
  displayName: "Engineering",
  members: [{ value: "u1", display: "one@example.com" }, { value: "u2" }, { value: "u3" }],
  meta: { resourceType: "Group", created: "2024-01-01T00:00:00.000Z" },
};

/** Patches like the writer does: apply, then normalize. */
function patch(type: ResourceTypeDef, resource: Attributes, ...operations: unknown[]) {
  return normalizeAttributes(
    type,
    applyPatch(type, resource, { schemas: [PATCH_OP], Operations: operations }),
  );
}
const memberIds = (g: Attributes) => ((g.members ?? []) as { value: string }[]).map((m) => m.value);

describe("applyPatch() on users", () => {
  it.each<[string, unknown[], (u: Attributes) => unknown, unknown]>([
    [
      "Okta deprovisioning: no-path replace active=false",
      [{ op: "replace", value: { active: false } }],
      (u) => u.active,
      false,
    ],
    [
      "Entra: capitalised op, boolean as string",
      [{ op: "Replace", path: "active", value: "False" }],
      (u) => u.active,
      false,
    ],
    [
      'Entra: reactivation with "True"',
      [{ op: "Replace", path: "active", value: "True" }],
      (u) => u.active,
      true,
    ],
    [
      "Entra: no-path replace with dotted and URN keys",
      [{
        op: "Replace",
        value: {
          "name.givenName": "Augusta",
          [`${ENTERPRISE_USER_SCHEMA}:department`]: "Engines",
          "urn:ietf:params:scim:schemas:core:2.0:User:userName": "augusta@example.com",
        },
      }],
      (u) => [
        (u.name as Attributes).givenName,
        (u.name as Attributes).familyName,
        (u[ENTERPRISE_USER_SCHEMA] as Attributes).department,
        u.userName,
      ],
      ["Augusta", "Lovelace", "Engines", "augusta@example.com"],
    ],
    [
      'Entra: replace emails[type eq "work"].value',
      [{ op: "Replace", path: 'emails[type eq "work"].value', value: "new@example.com" }],
      (u) => u.emails,
      [{ value: "new@example.com", type: "work", primary: true }],
    ],
    [
      "replace a sub-attribute with any case in the path",
      [{ op: "replace", path: "NAME.FAMILYNAME", value: "Byron" }],
      (u) => (u.name as Attributes).familyName,
      "Byron",
    ],
    [
      "URN-prefixed extension path",
      [{ op: "add", path: `${ENTERPRISE_USER_SCHEMA}:manager`, value: { value: "u-boss" } }],
      (u) => u[ENTERPRISE_USER_SCHEMA],
      { manager: { value: "u-boss" } },
    ],
    [
      "add a new attribute",
      [{ op: "add", path: "nickName", value: "Adi" }],
      (u) => u.nickName,
      "Adi",
    ],
    [
      "remove a sub-attribute",
      [{ op: "remove", path: "name.givenName" }],
      (u) => u.name,
      { familyName: "Lovelace" },
    ],
    [
      "remove an attribute that is not there",
      [{ op: "remove", path: "title" }],
      (u) => u.title,
      undefined,
    ],
    [
      "password, roles and unknown extensions are accepted and dropped",
      [
        { op: "replace", path: "password", value: "hunter2" },
        { op: "add", path: "roles", value: [{ value: "admin" }] },
        { op: "replace", path: "urn:example:custom:2.0:User:shoeSize", value: "42" },
      ],
      (u) => Object.keys(u).includes("password") || Object.keys(u).includes("roles"),
      false,
    ],
    [
      "several operations apply in order",
      [
        { op: "replace", path: "displayName", value: "A" },
        { op: "replace", path: "displayName", value: "B" },
      ],
      (u) => u.displayName,
      "B",
    ],
  ])("%s", (_name, operations, read, expected) => {
    expect(read(patch(USER_TYPE, user, ...operations))).toEqual(expected);
  });

  it("adds an email when a replace filter matches nothing (treated as add)", () => {
    const u = patch(USER_TYPE, { ...user, emails: undefined }, {
      op: "Replace",
      path: 'emails[type eq "work"].value',
      value: "ada@example.com",
    });
    expect(u.emails).toEqual([{ value: "ada@example.com", type: "work" }]);
  });

  it("does not change the input resource", () => {
    const before = structuredClone(user);
    patch(USER_TYPE, user, { op: "replace", value: { active: false } });
    expect(user).toEqual(before);
  });
});

describe("applyPatch() on groups", () => {
  it.each<[string, unknown[], string[]]>([
    [
      "Okta: add members",
      [{ op: "add", path: "members", value: [{ value: "u4", display: "four" }] }],
      ["u1", "u2", "u3", "u4"],
    ],
    [
      "Okta: remove members[value eq ...]",
      [{ op: "remove", path: 'members[value eq "u2"]' }],
      ["u1", "u3"],
    ],
    [
      "Entra: remove by value list, display not sent",
      [{ op: "Remove", path: "members", value: [{ value: "u1" }, { value: "u3" }] }],
      ["u2"],
    ],
    [
      "Entra: add with capitalised op",
      [{ op: "Add", path: "members", value: [{ value: "u9" }] }],
      ["u1", "u2", "u3", "u9"],
    ],
    [
      "adding a member twice keeps one (display differs)",
      [{ op: "add", path: "members", value: [{ value: "u1", display: "other" }] }],
      ["u1", "u2", "u3"],
    ],
    [
      "replace the whole member list",
      [{ op: "replace", path: "members", value: [{ value: "u7" }] }],
      ["u7"],
    ],
    ["remove all members", [{ op: "remove", path: "members" }], []],
    [
      "removing a non-member is a no-op",
      [{ op: "remove", path: 'members[value eq "nobody"]' }],
      ["u1", "u2", "u3"],
    ],
    [
      "no-path add of members appends",
      [{ op: "add", value: { members: [{ value: "u5" }] } }],
      ["u1", "u2", "u3", "u5"],
    ],
  ])("%s", (_name, operations, expected) => {
    expect(memberIds(patch(GROUP_TYPE, group, ...operations))).toEqual(expected);
  });

  it("removing from an empty group is a no-op (filter and value list)", () => {
    const empty = { ...group, members: undefined };
    expect(memberIds(patch(GROUP_TYPE, empty, { op: "remove", path: 'members[value eq "u1"]' })))
      .toEqual([]);
    expect(
      memberIds(patch(GROUP_TYPE, empty, {
        op: "Remove",
        path: "members",
        value: [{ value: "u1" }],
      })),
    ).toEqual([]);
  });

  it("accepts Okta's rename that repeats the group's own id", () => {
    const g = patch(GROUP_TYPE, group, {
      op: "replace",
      value: { id: "g-eng", displayName: "Engineering EU" },
    });
    expect(g.displayName).toBe("Engineering EU");
    expect(memberIds(g)).toEqual(["u1", "u2", "u3"]);
  });
});

describe("applyPatch() refusals", () => {
  const body = (...operations: unknown[]) => ({ schemas: [PATCH_OP], Operations: operations });
  it.each<[string, ResourceTypeDef, unknown, ScimType, string]>([
    ["not an object", USER_TYPE, [], "invalidSyntax", "JSON object"],
    ["no PatchOp schema", USER_TYPE, { Operations: [{ op: "add" }] }, "invalidSyntax", "schemas"],
    ["no operations", USER_TYPE, body(), "invalidSyntax", "Operations"],
    ["unknown op", USER_TYPE, body({ op: "move", path: "title" }), "invalidSyntax", ".op"],
    ["op not a string", USER_TYPE, body({ op: 1 }), "invalidSyntax", ".op"],
    ["remove without path", USER_TYPE, body({ op: "remove" }), "noTarget", "needs a path"],
    ["add without value", USER_TYPE, body({ op: "add", path: "title" }), "invalidValue", "value"],
    [
      "no-path value not an object",
      USER_TYPE,
      body({ op: "replace", value: "x" }),
      "invalidValue",
      "must be an object",
    ],
    [
      "unknown path",
      USER_TYPE,
      body({ op: "replace", path: "shoeSize", value: 1 }),
      "invalidPath",
      "shoeSize",
    ],
    [
      "unknown sub-attribute",
      USER_TYPE,
      body({ op: "replace", path: "name.nickname", value: 1 }),
      "invalidPath",
      "name.nickname",
    ],
    [
      "path not a string",
      USER_TYPE,
      body({ op: "replace", path: 3, value: 1 }),
      "invalidPath",
      "path",
    ],
    [
      "id is read-only",
      USER_TYPE,
      body({ op: "replace", path: "id", value: "x" }),
      "mutability",
      "id",
    ],
    [
      "meta is read-only",
      USER_TYPE,
      body({ op: "replace", path: "meta.created", value: "x" }),
      "mutability",
      "meta",
    ],
    [
      "the IONOS extension is read-only",
      USER_TYPE,
      body({ op: "replace", path: "urn:ionos:sync:2.0:User:syncState", value: "synced" }),
      "mutability",
      "read-only",
    ],
    [
      "a different id in a no-path value",
      GROUP_TYPE,
      body({ op: "replace", value: { id: "other" } }),
      "mutability",
      "id",
    ],
    [
      "a malformed value filter",
      GROUP_TYPE,
      body({ op: "remove", path: 'members[value eq "u1"' }),
      "invalidPath",
      "members",
    ],
    [
      "replace with a value filter matching nothing",
      GROUP_TYPE,
      body({ op: "replace", path: 'members[value eq "zz"]', value: { display: "x" } }),
      "noTarget",
      "members",
    ],
    [
      "remove by value list without values",
      GROUP_TYPE,
      body({ op: "remove", path: "members", value: [{ display: "x" }] }),
      "invalidValue",
      "value[0].value",
    ],
  ])("%s -> 400 %s", (_name, type, input, scimType, detail) => {
    const resource = type === USER_TYPE ? user : group;
    let error: unknown;
    try {
      applyPatch(type, resource, input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScimError);
    expect((error as ScimError).status).toBe(400);
    expect((error as ScimError).scimType).toBe(scimType);
    expect((error as ScimError).detail).toContain(detail);
  });

  it.each<[string, unknown, string]>([
    [
      'active="maybe"',
      { op: "replace", path: "active", value: "maybe" },
      "active must be a boolean",
    ],
    ["an empty userName", { op: "replace", path: "userName", value: "" }, "userName is required"],
    ["removing userName", { op: "remove", path: "userName" }, "userName is required"],
    [
      "a 1025-character name",
      { op: "replace", path: "name.givenName", value: "x".repeat(1025) },
      "name.givenName is longer",
    ],
  ])("normalizing the result of %s -> 400 invalidValue", (_name, operation, detail) => {
    expect(() => patch(USER_TYPE, user, operation)).toThrow(detail);
    try {
      patch(USER_TYPE, user, operation);
    } catch (e) {
      expect((e as ScimError).scimType).toBe("invalidValue");
    }
  });
});
