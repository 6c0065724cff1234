/**
 * The adapters as the service mounts them: signed WorkOS and Keycloak deliveries reach IONOS
 * (the simulator), and an integration without its credential is not mounted at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signKeycloakPayload } from "../../src/adapters/keycloak/signature.ts";
import { signWorkosPayload } from "../../src/adapters/workos/signature.ts";
import { type Harness, SCIM_TOKEN, startHarness } from "../_support/harness.ts";
import { KEYCLOAK_SECRET, WORKOS_SECRET } from "./helpers.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    // SCIM_TOKEN empty counts as unset: SCIM stays unmounted.
    env: {
      WORKOS_WEBHOOK_SECRET: WORKOS_SECRET,
      KEYCLOAK_WEBHOOK_SECRET: KEYCLOAK_SECRET,
      SCIM_TOKEN: "",
    },
  });
});
afterAll(async () => await h.stop());

async function workos(event: string, data: unknown) {
  const body = JSON.stringify({
    id: `event_${crypto.randomUUID()}`,
    event,
    data,
    created_at: new Date().toISOString(),
  });
  const ts = String(Date.now());
  return await fetch(`${h.url}/hooks/workos`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "WorkOS-Signature": `t=${ts}, v1=${await signWorkosPayload(WORKOS_SECRET, ts, body)}`,
    },
    body,
  });
}

async function keycloak(event: Record<string, unknown>) {
  const body = JSON.stringify({ uid: crypto.randomUUID(), time: Date.now(), ...event });
  return await fetch(`${h.url}/hooks/keycloak`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "X-Keycloak-Signature": await signKeycloakPayload(KEYCLOAK_SECRET, body),
    },
    body,
  });
}

describe("identity provider webhooks in the service", () => {
  it("syncs WorkOS and Keycloak changes to IONOS", async () => {
    const user = {
      id: "directory_user_01SVC",
      first_name: "Lela",
      last_name: "Block",
      emails: [{ primary: true, type: "work", value: "lela.block@foo-corp.com" }],
      username: "lela.block@foo-corp.com",
      state: "active",
    };
    const group = { id: "directory_group_01SVC", name: "WorkOS Engineers" };
    expect((await workos("dsync.user.created", user)).status).toBe(202);
    expect((await workos("dsync.group.created", group)).status).toBe(202);
    expect((await workos("dsync.group.user_added", { user, group })).status).toBe(202);
    const kc = await keycloak({
      resourceType: "USER",
      operationType: "CREATE",
      resourcePath: "users/kc-svc-1",
      representation: JSON.stringify({
        username: "kim.lee",
        email: "kim.lee@acme.example",
        firstName: "Kim",
        lastName: "Lee",
        enabled: true,
      }),
    });
    expect(kc.status).toBe(202);
    await h.drain();

    const state = h.sim.sim.state;
    const lela = state.userByEmail("lela.block@foo-corp.com");
    expect(lela?.properties).toMatchObject({ firstname: "Lela", lastname: "Block", active: true });
    expect(state.userByEmail("kim.lee@acme.example")?.properties).toMatchObject({
      firstname: "Kim",
      lastname: "Lee",
    });
    const engineers = state.groups().find((g) => g.properties.name === "WorkOS Engineers");
    expect(state.members(engineers!.id)).toEqual([lela!.id]);
  });

  it("does not mount SCIM without SCIM_TOKEN", async () => {
    const res = await fetch(`${h.url}/scim/v2/Users`, {
      headers: { authorization: `Bearer ${SCIM_TOKEN}` },
    });
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });
});
