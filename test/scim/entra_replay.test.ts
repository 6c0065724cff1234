/**
 * A recorded Microsoft Entra ID provisioning session (non-gallery app, default — legacy — PATCH
 * behaviour) replayed against the whole service, with the IONOS simulator behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, SCIM_TOKEN, startHarness } from "../_support/harness.ts";
import { type RecordedStep, replay } from "./replay.ts";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const q = (filter: string) => encodeURIComponent(filter);

const entraUser = (email: string, given: string, family: string, objectId: string) => ({
  schemas: [USER, ENTERPRISE],
  externalId: objectId,
  userName: email,
  active: true,
  displayName: `${given} ${family}`,
  emails: [{ primary: true, type: "work", value: email }],
  meta: { resourceType: "User" },
  name: { formatted: `${given} ${family}`, familyName: family, givenName: given },
  roles: [],
  [ENTERPRISE]: { department: "Engineering" },
});

const patch = (...operations: unknown[]) => ({ schemas: [PATCH], Operations: operations });
const empty = (b: { totalResults: number; Resources: unknown[] }) =>
  expect(b).toMatchObject({ totalResults: 0, Resources: [] });

/** Entra's requests, in the order it sent them, with the answers it needs. */
const session: RecordedStep[] = [
  {
    note: "test connection: random user",
    method: "GET",
    path: `/Users?filter=${q('userName eq "2ae0c6b8-4a4f-4b8b-9b37-b0d0b1f8e7a1"')}`,
    status: 200,
    check: empty,
  },
  {
    note: "test connection: random group, members excluded",
    method: "GET",
    path: `/Groups?excludedAttributes=members&filter=${
      q('displayName eq "d1b0f0a2-8c9e-4a55-9f5e-0e1c1d2b3a4f"')
    }`,
    status: 200,
    check: empty,
  },
  {
    note: "match user by userName before create",
    method: "GET",
    path: `/Users?filter=${q('userName eq "adele.vance@contoso.example"')}`,
    status: 200,
    check: empty,
  },
  {
    note: "create user",
    method: "POST",
    path: "/Users",
    body: entraUser(
      "adele.vance@contoso.example",
      "Adele",
      "Vance",
      "8f1c6c2e-aaaa-4bbb-8ccc-1d2e3f4a5b6c",
    ),
    status: 201,
    capture: { adele: "id" },
    check: (b) => expect(b[ENTERPRISE]).toEqual({ department: "Engineering" }),
  },
  {
    note: "match second user by userName",
    method: "GET",
    path: `/Users?filter=${q('userName eq "Lee.Gu@contoso.example"')}`,
    status: 200,
    check: empty,
  },
  {
    note: "create second user",
    method: "POST",
    path: "/Users",
    body: entraUser("Lee.Gu@contoso.example", "Lee", "Gu", "8f1c6c2e-aaaa-4bbb-8ccc-1d2e3f4a5b6d"),
    status: 201,
    capture: { lee: "id" },
  },
  {
    note: "create third user (deleted later)",
    method: "POST",
    path: "/Users",
    body: entraUser(
      "temp.worker@contoso.example",
      "Temp",
      "Worker",
      "8f1c6c2e-aaaa-4bbb-8ccc-1d2e3f4a5b6e",
    ),
    status: 201,
    capture: { temp: "id" },
  },
  {
    note: "match group by displayName, members excluded",
    method: "GET",
    path: `/Groups?excludedAttributes=members&filter=${q('displayName eq "Contoso Cloud"')}`,
    status: 200,
    check: empty,
  },
  {
    note: "create group",
    method: "POST",
    path: "/Groups",
    body: {
      schemas: [GROUP],
      externalId: "0b8d3a9e-1111-4222-8333-444455556666",
      displayName: "Contoso Cloud",
      members: [],
    },
    status: 201,
    capture: { cloud: "id" },
  },
  {
    note: "add members (capitalised op)",
    method: "PATCH",
    path: "/Groups/{{cloud}}",
    body: patch({
      op: "Add",
      path: "members",
      value: [{ value: "{{adele}}" }, { value: "{{lee}}" }, { value: "{{temp}}" }],
    }),
    status: [200, 204],
  },
  {
    note: "legacy user PATCH: Replace with path, no-path dotted and URN keys",
    method: "PATCH",
    path: "/Users/{{adele}}",
    body: patch(
      { op: "Replace", path: "name.familyName", value: "Vance-Smith" },
      {
        op: "Replace",
        value: {
          "name.givenName": "Adèle",
          [`${ENTERPRISE}:department`]: "Finance",
          "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Adèle Vance-Smith",
        },
      },
      { op: "Add", path: "title", value: "Controller" },
    ),
    status: [200, 204],
    check: (b) => {
      expect(b.name).toMatchObject({ givenName: "Adèle", familyName: "Vance-Smith" });
      expect(b[ENTERPRISE].department).toBe("Finance");
    },
  },
  {
    note: "legacy member removal: value list on path members",
    method: "PATCH",
    path: "/Groups/{{cloud}}",
    body: patch({ op: "Remove", path: "members", value: [{ value: "{{lee}}" }] }),
    status: [200, 204],
  },
  {
    note: 'soft delete: active as the string "False"',
    method: "PATCH",
    path: "/Users/{{lee}}",
    body: patch({ op: "Replace", path: "active", value: "False" }),
    status: [200, 204],
    check: (b) => expect(b.active).toBe(false),
  },
  {
    note: "a soft-deleted user is still found by queries",
    method: "GET",
    path: `/Users?filter=${q('userName eq "lee.gu@contoso.example"')}`,
    status: 200,
    check: (b) => {
      expect(b.totalResults).toBe(1);
      expect(b.Resources[0].active).toBe(false);
    },
  },
  {
    note: "lookup by externalId",
    method: "GET",
    path: `/Users?filter=${q('externalId eq "8f1c6c2e-aaaa-4bbb-8ccc-1d2e3f4a5b6c"')}`,
    status: 200,
    check: (b) => expect(b.Resources[0].userName).toBe("adele.vance@contoso.example"),
  },
  {
    note: "hard delete after the soft-delete period",
    method: "DELETE",
    path: "/Users/{{temp}}",
    status: 204,
  },
  {
    note: "the deleted user is gone",
    method: "GET",
    path: "/Users/{{temp}}",
    status: 404,
  },
];

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => await h.stop());

describe("Entra ID provisioning session", () => {
  it("gets the answers Entra expects, and IONOS ends in the matching state", async () => {
    await replay(session, {
      baseUrl: `${h.url}/scim/v2`,
      token: SCIM_TOKEN,
      headers: { "user-agent": "Microsoft.Identity.Provisioning.Scim" },
    });
    await h.drain();

    const state = h.sim.sim.state;
    const adele = state.userByEmail("adele.vance@contoso.example");
    const lee = state.userByEmail("lee.gu@contoso.example");
    expect(adele?.properties).toMatchObject({
      firstname: "Adèle",
      lastname: "Vance-Smith",
      active: true,
    });
    expect(lee?.properties).toMatchObject({ firstname: "Lee", lastname: "Gu", active: false });
    // onUserDeleted defaults to "delete": the hard-deleted user is gone from IONOS.
    expect(state.userByEmail("temp.worker@contoso.example")).toBeUndefined();
    const groups = state.groups();
    expect(groups.map((g) => g.properties.name)).toEqual(["Contoso Cloud"]);
    expect(state.members(groups[0]!.id)).toEqual([adele!.id]);
  });
});
