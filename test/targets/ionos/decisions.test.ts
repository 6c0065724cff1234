/**
 * The pure safety decisions shared by the workers and reconcile (src/targets/ionos/decisions.ts), from
 * tables of cases; no Redis, no IONOS.
 */
import { describe, expect, it } from "vitest";
import { isProtectedEmail, normalizeEmail, parseMapping } from "../../../src/config/mapping.ts";
import type { IonosUser, IonosUserProperties } from "../../../src/targets/ionos/types.ts";
import {
  accessReduction,
  deactivated,
  desiredGroup,
  desiredUser,
  memberChanges,
  ownPrivileges,
  privilegeReduction,
  recordPrivileges,
  userAdoptionRefusal,
  userRemoval,
} from "../../../src/targets/ionos/decisions.ts";

const props = (over: Partial<IonosUserProperties> = {}): IonosUserProperties => ({
  firstname: "Ada",
  lastname: "L",
  email: "ada@example.com",
  administrator: false,
  forceSecAuth: false,
  secAuthActive: false,
  active: true,
  ...over,
});
const ionosUser = (over: Partial<IonosUserProperties> = {}): IonosUser =>
  ({ id: "u-1", type: "user", href: "", properties: props(over) }) as unknown as IonosUser;

describe("accessReduction()", () => {
  it.each([
    ["nothing taken away", props(), props({ firstname: "New" }), undefined],
    [
      "only a reduction: the one full write is it",
      props({ active: true }),
      props({ active: false }),
      undefined,
    ],
    [
      "deactivate with an email change",
      props(),
      props({ active: false, email: "new@example.com" }),
      props({ active: false }),
    ],
    [
      "demote with a rename",
      props({ administrator: true }),
      props({ lastname: "King" }),
      props({ administrator: false }),
    ],
    [
      "a grant is not part of the reduction",
      props({ administrator: true, active: false }),
      props({ administrator: false, active: true, firstname: "X" }),
      props({ administrator: false, active: false }),
    ],
  ])("%s", (_, current, desired, expected) => {
    const { secAuthActive: _s, ...want } = desired;
    expect(accessReduction(current, want)).toEqual(expected);
  });
});

describe("userRemoval() and deactivated()", () => {
  it.each(
    [
      ["delete", false, "created", "delete"],
      ["delete", false, "adopted", "deactivate"],
      ["delete", true, "adopted", "delete"],
      ["deactivate", true, "created", "deactivate"],
      ["deactivate", false, "adopted", "deactivate"],
    ] as const,
  )("onUserDeleted %s, deleteAdopted %s, %s -> %s", (onDel, delAdopted, origin, want) => {
    const mapping = parseMapping(
      JSON.stringify({ onUserDeleted: onDel, adopt: { deleteAdopted: delAdopted } }),
    );
    expect(userRemoval(mapping, origin)).toBe(want);
  });

  it("a kept account loses sign-in and administrator together", () => {
    expect(deactivated(props({ administrator: true }))).toMatchObject({
      active: false,
      administrator: false,
    });
    expect(deactivated(props({ active: false }))).toBeUndefined();
  });
});

describe("userAdoptionRefusal()", () => {
  it.each(
    [
      ["non-admin", false, false],
      ["non-admin", true, true],
      ["all", true, false],
      ["none", false, true],
    ] as const,
  )("adopt.users %s, administrator %s: refused %s", (users, admin, refused) => {
    const mapping = parseMapping(JSON.stringify({ adopt: { users } }));
    const refusal = userAdoptionRefusal(mapping, ionosUser({ administrator: admin }));
    expect(refusal !== undefined).toBe(refused);
    if (refusal) expect(refusal).toMatch(/^conflict: /);
  });

  it("tells how to resolve a refused administrator", () => {
    const refusal = userAdoptionRefusal(parseMapping("{}"), ionosUser({ administrator: true }));
    expect(refusal).toMatch(/protectedEmails/);
    expect(refusal).toMatch(/adopt\.users: all/);
  });
});

describe("desiredUser()", () => {
  it("takes active and administrator from the IdP only, whatever IONOS holds", () => {
    const mapping = parseMapping("{ protectedEmails: [ada@example.com] }");
    const wanted = {
      id: "u",
      email: "ada@example.com",
      active: false,
      deleted: false,
      t: 1,
      eventId: "e",
    };
    expect(desiredUser(mapping, wanted, false, props({ administrator: true }))).toMatchObject({
      active: false,
      administrator: false,
    });
  });
});

describe("desiredGroup() and privilegeReduction()", () => {
  const mapping = parseMapping(
    "{ groups: { privileges: { ionos-dev: [createSnapshot] } } }",
  );
  const current = { ...desiredGroup(mapping, "x"), name: "ionos-ops", reserveIp: true };

  it("an adopted group keeps its own privileges unless the mapping names some", () => {
    expect(desiredGroup(mapping, "ionos-ops", "adopted", current).reserveIp).toBe(true);
    // Privileges the mapping gave it under another name are not its own.
    const own = ownPrivileges(recordPrivileges({ ...current, createSnapshot: false }));
    expect(desiredGroup(mapping, "ionos-ops", "adopted", own).createSnapshot).toBe(false);
    expect(desiredGroup(mapping, "ionos-ops", "created", current).reserveIp).toBe(false);
    const named = desiredGroup(mapping, "ionos-dev", "adopted", current);
    expect([named.reserveIp, named.createSnapshot]).toEqual([false, true]);
  });

  it("takes privileges away before a rename", () => {
    const desired = desiredGroup(mapping, "ionos-renamed");
    expect(privilegeReduction(current, desired)).toMatchObject({
      name: "ionos-ops",
      reserveIp: false,
    });
    expect(privilegeReduction(current, { ...desired, name: "ionos-ops" })).toBeUndefined();
  });
});

describe("memberChanges()", () => {
  const s = (...ids: string[]) => new Set(ids);
  it.each([
    ["adds and removes managed members", s("a", "b"), s("b", "c"), s("c"), s(), ["a"], ["c"]],
    ["never removes unmanaged members", s(), s("x"), s(), s(), [], []],
    ["never moves protected accounts", s("p"), s("q"), s("q"), s("p", "q"), [], []],
  ])("%s", (_, wanted, actual, managed, prot, add, remove) => {
    expect(memberChanges(wanted, actual, managed, prot)).toEqual({ add, remove });
  });
});

describe("normalizeEmail() and isProtectedEmail()", () => {
  const mapping = parseMapping("{ protectedEmails: [' Owner@Example.com '] }");
  it.each([
    ["owner@example.com", true],
    ["OWNER@EXAMPLE.COM", true],
    ["  owner@example.com\t", true],
    ["other@example.com", false],
  ])("%s protected: %s", (email, want) => {
    expect(isProtectedEmail(mapping, email)).toBe(want);
  });

  it("compares Unicode in NFC", () => {
    const composed = "jos\u00e9@example.com";
    const decomposed = "jose\u0301@example.com";
    expect(normalizeEmail(decomposed)).toBe(normalizeEmail(composed));
    expect(
      isProtectedEmail(parseMapping(JSON.stringify({ protectedEmails: [composed] })), decomposed),
    )
      .toBe(true);
  });
});
