/** SCIM filter parsing and evaluation: table-driven, no Redis. */
import { describe, expect, it } from "vitest";
import { ScimError } from "../../src/scim/errors.ts";
import { compileFilter, equalityOn, parseFilter } from "../../src/scim/filter.ts";
import { GROUP_TYPE, USER_TYPE } from "../../src/scim/schema.ts";
import { ENTERPRISE_USER_SCHEMA } from "../../src/scim/urns.ts";

const ada = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
  id: "2f9c-ada",
  externalId: "00uAda",
  userName: "Ada.Lovelace@Example.com",
  name: { givenName: "Ada", familyName: "Lovelace" },
  displayName: "Ada Lovelace",
  active: true,
  emails: [
    { value: "ada@example.com", type: "work", primary: true },
    { value: "ada@home.example", type: "home" },
  ],
  [ENTERPRISE_USER_SCHEMA]: { department: "Engines" },
  meta: {
    resourceType: "User",
    created: "2024-05-01T10:00:00.000Z",
    lastModified: "2024-05-02T10:00:00.000Z",
    version: 'W/"1"',
  },
};
const grace = {
  ...ada,
  id: "7b1e-grace",
  externalId: "00uGrace",
  userName: "grace@example.com",
  name: { givenName: "Grace", familyName: "Hopper" },
  active: false,
  emails: [{ value: "grace@example.com", type: "work", primary: true }],
  [ENTERPRISE_USER_SCHEMA]: undefined,
};

const matchesUser = (filter: string) =>
  [ada, grace].filter(compileFilter(USER_TYPE, parseFilter(USER_TYPE, filter))).map((u) => u.id);

describe("parseFilter() and compileFilter() on users", () => {
  it.each([
    ['userName eq "ada.lovelace@example.com"', ["2f9c-ada"]], // case-insensitive
    ['USERNAME Eq "GRACE@EXAMPLE.COM"', ["7b1e-grace"]], // attribute and operator names too
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "grace@example.com"', ["7b1e-grace"]],
    ['userName eq "nobody-4711@example.com"', []],
    ['externalId eq "00uada"', []], // externalId is caseExact
    ['externalId eq "00uAda"', ["2f9c-ada"]],
    ['id eq "7b1e-grace"', ["7b1e-grace"]],
    ['emails.value eq "ADA@home.example"', ["2f9c-ada"]],
    ['emails eq "grace@example.com"', ["7b1e-grace"]], // multi-valued: compares `value`
    ['emails[type eq "work" and value co "grace"]', ["7b1e-grace"]],
    ['emails[value eq "ada@example.com"]', ["2f9c-ada"]],
    ['emails[type eq "home"]', ["2f9c-ada"]],
    ['emails[type eq "work"].value ew "@example.com"', ["2f9c-ada", "7b1e-grace"]],
    ['userName sw "ada" and active eq true', ["2f9c-ada"]],
    ['userName co "LOVELACE"', ["2f9c-ada"]],
    ["active eq false", ["7b1e-grace"]],
    ['active eq "False"', ["7b1e-grace"]], // Entra-style string boolean
    ['userName eq "grace@example.com" or name.givenName eq "ada"', ["2f9c-ada", "7b1e-grace"]],
    ['not (userName eq "grace@example.com")', ["2f9c-ada"]],
    ['userName ne "grace@example.com"', ["2f9c-ada"]],
    ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr", ["2f9c-ada"]],
    [`${ENTERPRISE_USER_SCHEMA}:department eq "engines"`, ["2f9c-ada"]],
    ["title pr", []],
    ["name pr", ["2f9c-ada", "7b1e-grace"]],
    ['meta.lastModified gt "2024-05-01T00:00:00Z"', ["2f9c-ada", "7b1e-grace"]],
    ['meta.created lt "2024-01-01T00:00:00Z"', []],
    ["displayName eq null", []],
  ])("%s matches %j", (filter, ids) => {
    expect(matchesUser(filter)).toEqual(ids);
  });
});

describe("parseFilter() on groups", () => {
  const admins = {
    id: "g1",
    displayName: "IONOS Admins",
    members: [{ value: "2f9c-ada" }, { value: "7b1e-grace" }],
  };
  it.each([
    ['displayName eq "ionos admins"', true],
    ['members[value eq "2f9c-ada"]', true],
    ['members.value eq "2F9C-ADA"', false], // member ids are caseExact
    ['displayName sw "IONOS" and members pr', true],
  ])("%s -> %s", (filter, expected) => {
    expect(compileFilter(GROUP_TYPE, parseFilter(GROUP_TYPE, filter))(admins)).toBe(expected);
  });
});

describe("parseFilter() refusals", () => {
  it.each([
    ['userName eq "unterminated', "not valid"],
    ["userName eq", "not valid"],
    ['userName xx "a"', "not valid"],
    ['(userName eq "a"', "not valid"],
    ['nosuchattribute eq "a"', "unknown attribute"],
    ['name.nosuch eq "a"', "unknown attribute"],
    ['emails[nosuch eq "a"]', "unknown attribute"],
    ['urn:example:unknown:User:x eq "a"', "unknown schema"],
    ["active gt true", "booleans compare"],
    ["active eq 3", "true or false"],
    ['name eq "Ada"', "complex"],
    ['meta.created gt "not a date"', "date-time"],
    ["userName eq 42", "must be a string"],
    ['userName[value eq "a"]', "not a multi-valued"],
    ["userName gt null", "cannot compare with null"],
  ])("%s -> 400 invalidFilter (%s)", (filter, detail) => {
    let error: unknown;
    try {
      parseFilter(USER_TYPE, filter);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScimError);
    expect((error as ScimError).status).toBe(400);
    expect((error as ScimError).scimType).toBe("invalidFilter");
    expect((error as ScimError).detail).toContain(detail);
  });

  it("refuses filters longer than 4096 characters", () => {
    expect(() => parseFilter(USER_TYPE, `userName eq "${"a".repeat(5000)}"`)).toThrow(/longer/);
  });
});

describe("equalityOn()", () => {
  it.each([
    ['userName eq "a@b.c"', "a@b.c"],
    ['userName eq "a@b.c" and active eq true', "a@b.c"],
    ['active eq true and USERNAME eq "a@b.c"', "a@b.c"],
    ['userName eq "a@b.c" or userName eq "d@e.f"', undefined],
    ['userName co "a"', undefined],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x@y.z"', "x@y.z"],
  ])("%s -> %s", (filter, value) => {
    expect(equalityOn(parseFilter(USER_TYPE, filter), "userName")).toBe(value);
  });
});
