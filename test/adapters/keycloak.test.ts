/** `POST /hooks/keycloak`: Keycloak admin events (p2-inc keycloak-events), against a real Redis. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signKeycloakPayload } from "../../src/adapters/keycloak/signature.ts";
import { readUnknownEventCounts } from "../../src/adapters/unknown_events.ts";
import { type HooksTestContext, KEYCLOAK_SECRET, startHooks } from "./helpers.ts";

let t: HooksTestContext;
beforeAll(async () => {
  t = await startHooks();
});
afterAll(async () => await t.stop());

let seq = 0;
/** An admin event as the plugin serializes it; `representation` is a JSON string. */
function adminEvent(
  resourceType: string,
  operationType: string,
  resourcePath: string,
  representation?: unknown,
  extra: Record<string, unknown> = {},
) {
  return {
    uid: `kc-evt-${++seq}-${crypto.randomUUID()}`,
    time: Date.now() + seq,
    realmId: "acme",
    authDetails: { realmId: "master", clientId: "security-admin-console", userId: "admin-1" },
    type: `admin.${resourceType}-${operationType}`,
    resourceType,
    operationType,
    resourcePath,
    ...(representation !== undefined
      ? {
        representation: typeof representation === "string"
          ? representation
          : JSON.stringify(representation),
      }
      : {}),
    error: null,
    ...extra,
  };
}

async function deliver(payload: unknown, signature?: string) {
  const body = JSON.stringify(payload);
  const sig = signature ?? await signKeycloakPayload(KEYCLOAK_SECRET, body);
  return await t.post("/hooks/keycloak", body, { "X-Keycloak-Signature": sig });
}

const userRep = (username: string, extra: Record<string, unknown> = {}) => ({
  username,
  email: `${username}@acme.example`,
  firstName: "Kim",
  lastName: "Lee",
  enabled: true,
  ...extra,
});

describe("POST /hooks/keycloak", () => {
  it("accepts a signed USER CREATE and stores the user (id from resourcePath)", async () => {
    const res = await deliver(adminEvent("USER", "CREATE", "users/kc-u1", userRep("kim")));
    expect(res).toEqual({ status: 202, body: { accepted: 1, duplicates: 0 } });
    expect(await t.wanted.getUser("kc-u1")).toMatchObject({
      email: "kim@acme.example",
      userName: "kim",
      firstName: "Kim",
      lastName: "Lee",
      active: true,
    });
  });

  it.each([
    ["a forged signature", "00".repeat(32)],
    ["a signature made with another secret", "sign-with-wrong"],
    ["an empty signature", ""],
  ])("refuses %s with 401 and stores nothing", async (_name, signature) => {
    const event = adminEvent("USER", "CREATE", "users/kc-forged", userRep("forged"));
    const sig = signature === "sign-with-wrong"
      ? await signKeycloakPayload("another-secret-0123456789", JSON.stringify(event))
      : signature;
    const res = await deliver(event, sig);
    expect(res.status).toBe(401);
    expect(await t.wanted.getUser("kc-forged")).toBeUndefined();
  });

  it("accepts a representation sent as an object, and a sha256= prefix", async () => {
    const event = {
      ...adminEvent("USER", "CREATE", "users/kc-u2"),
      representation: userRep("obj"),
    };
    const body = JSON.stringify(event);
    const sig = `sha256=${await signKeycloakPayload(KEYCLOAK_SECRET, body)}`;
    const res = await t.post("/hooks/keycloak", body, { "x-keycloak-signature": sig });
    expect(res.status).toBe(202);
    expect(await t.wanted.getUser("kc-u2")).toMatchObject({ email: "obj@acme.example" });
  });

  it("fills a partial UPDATE (only enabled=false) from the wanted state", async () => {
    await deliver(adminEvent("USER", "CREATE", "users/kc-u3", userRep("partial")));
    const res = await deliver(adminEvent("USER", "UPDATE", "users/kc-u3", { enabled: false }));
    expect(res.body.accepted).toBe(1);
    expect(await t.wanted.getUser("kc-u3")).toMatchObject({
      email: "partial@acme.example",
      firstName: "Kim",
      lastName: "Lee",
      active: false,
    });
  });

  it("maps groups, memberships and deletes", async () => {
    await deliver(adminEvent("USER", "CREATE", "users/kc-u4", userRep("member")));
    await deliver(adminEvent("GROUP", "CREATE", "groups/kc-g1", { id: "kc-g1", name: "ops" }));
    expect(await t.wanted.getGroup("kc-g1")).toMatchObject({ displayName: "ops" });
    const joined = await deliver(
      adminEvent("GROUP_MEMBERSHIP", "CREATE", "users/kc-u4/groups/kc-g1", {
        id: "kc-g1",
        name: "ops",
        path: "/ops",
      }),
    );
    expect(joined.body.accepted).toBe(1);
    expect(await t.wanted.getMembers("kc-g1")).toEqual(["kc-u4"]);
    await deliver(adminEvent("GROUP", "UPDATE", "groups/kc-g1", { id: "kc-g1", name: "ops-eu" }));
    expect(await t.wanted.getGroup("kc-g1")).toMatchObject({ displayName: "ops-eu" });
    await deliver(adminEvent("GROUP_MEMBERSHIP", "DELETE", "users/kc-u4/groups/kc-g1"));
    expect(await t.wanted.getMembers("kc-g1")).toEqual([]);
    await deliver(adminEvent("USER", "DELETE", "users/kc-u4"));
    await deliver(adminEvent("GROUP", "DELETE", "groups/kc-g1"));
    expect(await t.wanted.getUser("kc-u4")).toMatchObject({ deleted: true });
    expect(await t.wanted.getGroup("kc-g1")).toMatchObject({ deleted: true });
  });

  it("takes a sub-group's id from its representation", async () => {
    const res = await deliver(
      adminEvent("GROUP", "CREATE", "groups/kc-parent/children", { id: "kc-child", name: "child" }),
    );
    expect(res.body.accepted).toBe(1);
    expect(await t.wanted.getGroup("kc-child")).toMatchObject({ displayName: "child" });
  });

  it("de-duplicates a re-delivered event by its uid", async () => {
    const event = adminEvent("USER", "CREATE", "users/kc-u5", userRep("dup"));
    expect((await deliver(event)).body).toEqual({ accepted: 1, duplicates: 0 });
    expect((await deliver(event)).body).toEqual({ accepted: 0, duplicates: 1 });
  });

  it.each([
    [
      "a login event",
      { uid: "x1", type: "access.LOGIN", realmId: "acme", userId: "u" },
      "access.LOGIN",
    ],
    [
      "a role mapping",
      adminEvent("REALM_ROLE_MAPPING", "CREATE", "users/u/role-mappings/realm", "[]"),
      "admin.REALM_ROLE_MAPPING-CREATE",
    ],
    [
      "a password reset (USER ACTION)",
      adminEvent("USER", "ACTION", "users/u/reset-password"),
      "admin.USER-ACTION",
    ],
    [
      "a failed operation",
      adminEvent("USER", "CREATE", "users/u", userRep("x"), { error: "conflict" }),
      "admin.USER-CREATE",
    ],
  ])("acknowledges %s with 202 and counts it", async (_name, event, counted) => {
    const before = (await readUnknownEventCounts(t.client))[`keycloak:${counted}`] ?? 0;
    const res = await deliver(event);
    expect(res).toEqual({ status: 202, body: { accepted: 0, duplicates: 0, ignored: 1 } });
    expect((await readUnknownEventCounts(t.client))[`keycloak:${counted}`]).toBe(before + 1);
  });

  it.each([
    [
      "a user without any email",
      adminEvent("USER", "CREATE", "users/kc-x", { username: "noemail" }),
    ],
    ["a user path without id", adminEvent("USER", "CREATE", "users", userRep("x"))],
    ["a membership with a bad path", adminEvent("GROUP_MEMBERSHIP", "CREATE", "groups/g")],
    [
      "a group without a name",
      adminEvent("GROUP", "CREATE", "groups/kc-nameless", { id: "kc-nameless" }),
    ],
  ])("answers 400 for %s and stores nothing", async (_name, event) => {
    const res = await deliver(event);
    expect(res.status).toBe(400);
    expect(await t.wanted.getUser("kc-x")).toBeUndefined();
  });
});
