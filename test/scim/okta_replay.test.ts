/**
 * A recorded Okta provisioning session (SCIM 2.0 app built with the app wizard) replayed
 * against the whole service, with the IONOS simulator behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, SCIM_TOKEN, startHarness } from "../_support/harness.ts";
import { type RecordedStep, replay } from "./replay.ts";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const q = (filter: string) => encodeURIComponent(filter);

const oktaUser = (email: string, given: string, family: string, externalId: string) => ({
  schemas: [USER],
  userName: email,
  name: { givenName: given, familyName: family },
  emails: [{ primary: true, value: email, type: "work" }],
  displayName: `${given} ${family}`,
  locale: "en-US",
  externalId,
  groups: [],
  password: "1mz050nq-Okta",
  active: true,
});

/** Okta's requests, in the order it sent them, with the answers it needs. */
const session: RecordedStep[] = [
  {
    note: "import/lookup before create: no match is an empty list",
    method: "GET",
    path: `/Users?filter=${q('userName eq "isaac.brock@example.com"')}&startIndex=1&count=100`,
    status: 200,
    check: (b) => expect(b).toMatchObject({ totalResults: 0, Resources: [] }),
  },
  {
    note: "create user",
    method: "POST",
    path: "/Users",
    body: oktaUser("isaac.brock@example.com", "Isaac", "Brock", "00ujl29u0le5T6Aj10h7"),
    status: 201,
    capture: { isaac: "id" },
    check: (b) => expect(b).toMatchObject({ userName: "isaac.brock@example.com", active: true }),
  },
  {
    note: "lookup now finds it (case-insensitive userName)",
    method: "GET",
    path: `/Users?filter=${q('userName eq "Isaac.Brock@example.com"')}&startIndex=1&count=100`,
    status: 200,
    check: (b) => expect(b.totalResults).toBe(1),
  },
  {
    note: "create second user",
    method: "POST",
    path: "/Users",
    body: oktaUser("ruth.kim@example.com", "Ruth", "Kim", "00ujl29u0le5T6Aj10h8"),
    status: 201,
    capture: { ruth: "id" },
  },
  {
    note: "read before update",
    method: "GET",
    path: "/Users/{{isaac}}",
    status: 200,
  },
  {
    note: "profile update with PUT (wizard apps), id repeated in the body",
    method: "PUT",
    path: "/Users/{{isaac}}",
    body: {
      ...oktaUser("isaac.brock@example.com", "Isaac", "Brock-Smith", "00ujl29u0le5T6Aj10h7"),
      id: "{{isaac}}",
    },
    status: 200,
    check: (b) => expect(b.name.familyName).toBe("Brock-Smith"),
  },
  {
    note: "group push: create",
    method: "POST",
    path: "/Groups",
    body: { schemas: [GROUP], displayName: "Cloud Ops", members: [] },
    status: 201,
    capture: { ops: "id" },
  },
  {
    note: "group push: add members",
    method: "PATCH",
    path: "/Groups/{{ops}}",
    body: {
      schemas: [PATCH],
      Operations: [{
        op: "add",
        path: "members",
        value: [
          { value: "{{isaac}}", display: "isaac.brock@example.com" },
          { value: "{{ruth}}", display: "ruth.kim@example.com" },
        ],
      }],
    },
    status: [200, 204],
  },
  {
    note: "group push: remove a member",
    method: "PATCH",
    path: "/Groups/{{ops}}",
    body: {
      schemas: [PATCH],
      Operations: [{ op: "remove", path: 'members[value eq "{{ruth}}"]' }],
    },
    status: [200, 204],
  },
  {
    note: "group push: rename, Okta repeats the id",
    method: "PATCH",
    path: "/Groups/{{ops}}",
    body: {
      schemas: [PATCH],
      Operations: [{ op: "replace", value: { id: "{{ops}}", displayName: "Cloud Operations" } }],
    },
    status: [200, 204],
  },
  {
    note: "group push: a second group, later unlinked with delete",
    method: "POST",
    path: "/Groups",
    body: { schemas: [GROUP], displayName: "Temp Project", members: [{ value: "{{ruth}}" }] },
    status: 201,
    capture: { temp: "id" },
  },
  {
    note: "group push: delete",
    method: "DELETE",
    path: "/Groups/{{temp}}",
    status: 204,
  },
  {
    note: "deprovisioning: PATCH active=false (Okta never DELETEs users)",
    method: "PATCH",
    path: "/Users/{{ruth}}",
    body: { schemas: [PATCH], Operations: [{ op: "replace", value: { active: false } }] },
    status: 200,
    check: (b) => expect(b.active).toBe(false),
  },
  {
    note: "import: list users with paging",
    method: "GET",
    path: "/Users?startIndex=1&count=100",
    status: 200,
    check: (b) => {
      expect(b.totalResults).toBe(2);
      expect(b.Resources.map((u: { userName: string }) => u.userName)).toEqual([
        "isaac.brock@example.com",
        "ruth.kim@example.com",
      ]);
    },
  },
];

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => await h.stop());

describe("Okta provisioning session", () => {
  it("gets the answers Okta expects, and IONOS ends in the matching state", async () => {
    const ids = await replay(session, {
      baseUrl: `${h.url}/scim/v2`,
      token: SCIM_TOKEN,
      headers: { "user-agent": "Okta SCIM Client 1.0.0" },
    });
    await h.drain();

    const state = h.sim.sim.state;
    const isaac = state.userByEmail("isaac.brock@example.com");
    const ruth = state.userByEmail("ruth.kim@example.com");
    expect(isaac?.properties).toMatchObject({
      firstname: "Isaac",
      lastname: "Brock-Smith",
      active: true,
    });
    expect(ruth?.properties).toMatchObject({ firstname: "Ruth", lastname: "Kim", active: false });
    const groups = state.groups();
    expect(groups.map((g) => g.properties.name)).toEqual(["Cloud Operations"]);
    expect(state.members(groups[0]!.id)).toEqual([isaac!.id]);

    // The SCIM answer now shows the IONOS twin.
    const res = await fetch(`${h.url}/scim/v2/Users/${ids.isaac}`, {
      headers: { authorization: `Bearer ${SCIM_TOKEN}` },
    });
    expect((await res.json())["urn:ionos:sync:2.0:User"]).toMatchObject({
      ionosUserId: isaac!.id,
      syncState: "synced",
    });
  });
});
