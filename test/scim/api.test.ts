/** The SCIM API in-process against a real Redis: answers, store, and what reaches the wanted state. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { silentLogger } from "../../src/log.ts";
import { createSyncQueue } from "../../src/queue/sync_queue.ts";
import { scimApp } from "../../src/scim/app.ts";
import {
  ENTERPRISE_USER_SCHEMA,
  ERROR_SCHEMA,
  IONOS_USER_SCHEMA,
  LIST_RESPONSE,
  PATCH_OP,
} from "../../src/scim/urns.ts";
import { type ScimTestContext, scimUser, startScim, TOKEN } from "./helpers.ts";

let t: ScimTestContext;
beforeAll(async () => {
  t = await startScim();
});
afterAll(async () => await t.stop());

const patchOp = (...operations: unknown[]) => ({ schemas: [PATCH_OP], Operations: operations });

async function createUser(email: string, extra: Record<string, unknown> = {}) {
  const res = await t.request("POST", "/Users", scimUser(email, extra));
  expect(res.status).toBe(201);
  return res.body as { id: string; meta: { version: string } };
}

describe("SCIM authentication", () => {
  it.each([
    ["no Authorization header", undefined],
    ["a wrong token", "Bearer wrong-token-0123456789"],
    ["the right token with another scheme", `Basic ${TOKEN}`],
  ])("answers 401 with a SCIM error for %s", async (_name, authorization) => {
    const res = await t.app.request("http://scim.test/scim/v2/Users", {
      headers: authorization ? { authorization } : {},
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("application/scim+json");
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    expect(await res.json()).toEqual({
      schemas: [ERROR_SCHEMA],
      status: "401",
      detail: "missing or wrong bearer token",
    });
  });

  it("refuses to build without a token", () => {
    expect(() =>
      scimApp({
        token: "",
        store: t.store,
        records: t.records,
        ingest: { store: t.wanted, queue: t.queue },
        logger: silentLogger,
      })
    ).toThrow(/token/);
  });
});

describe("SCIM discovery", () => {
  it("describes the service provider", async () => {
    const res = await t.request("GET", "/ServiceProviderConfig");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/scim+json");
    expect(res.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 200 },
      sort: { supported: false },
      etag: { supported: true },
      changePassword: { supported: false },
      authenticationSchemes: [{ type: "oauthbearertoken" }],
    });
  });

  it("lists the User and Group resource types", async () => {
    const res = await t.request("GET", "/ResourceTypes");
    expect(res.body.schemas).toEqual([LIST_RESPONSE]);
    expect(res.body.Resources.map((r: { id: string }) => r.id)).toEqual(["User", "Group"]);
    const user = await t.request("GET", "/ResourceTypes/User");
    expect(user.body.schemaExtensions).toContainEqual({
      schema: ENTERPRISE_USER_SCHEMA,
      required: false,
    });
    expect((await t.request("GET", "/ResourceTypes/Nope")).status).toBe(404);
  });

  it("publishes the schemas it enforces", async () => {
    const res = await t.request("GET", "/Schemas");
    const ids = res.body.Resources.map((s: { id: string }) => s.id);
    expect(ids).toEqual([
      "urn:ietf:params:scim:schemas:core:2.0:User",
      "urn:ietf:params:scim:schemas:core:2.0:Group",
      ENTERPRISE_USER_SCHEMA,
      IONOS_USER_SCHEMA,
    ]);
    const user = await t.request("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
    const userName = user.body.attributes.find((a: { name: string }) => a.name === "userName");
    expect(userName).toMatchObject({ required: true, caseExact: false, uniqueness: "server" });
  });

  it("answers unknown endpoints with a SCIM 404", async () => {
    const res = await t.request("GET", "/Bulk");
    expect(res.status).toBe(404);
    expect(res.body.schemas).toEqual([ERROR_SCHEMA]);
  });
});

describe("POST /Users", () => {
  it("creates the user, answers 201 with the full resource, and ingests user.created", async () => {
    const jobsBefore = (await t.queue.getJobCounts("waiting")).waiting ?? 0;
    const res = await t.request(
      "POST",
      "/Users",
      scimUser("ada.lovelace@example.com", { externalId: "00uAda" }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("application/scim+json");
    const id = res.body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("location")).toBe(`http://scim.test/scim/v2/Users/${id}`);
    expect(res.headers.get("etag")).toBe('W/"1"');
    expect(res.body).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", IONOS_USER_SCHEMA],
      externalId: "00uAda",
      userName: "ada.lovelace@example.com",
      active: true,
      [IONOS_USER_SCHEMA]: { syncState: "pending" },
      meta: {
        resourceType: "User",
        location: `http://scim.test/scim/v2/Users/${id}`,
        version: 'W/"1"',
      },
    });
    expect(res.body.meta.created).toBe(res.body.meta.lastModified);
    const wanted = await t.wanted.getUser(id);
    expect(wanted).toMatchObject({
      email: "ada.lovelace@example.com",
      firstName: "ada",
      lastName: "lovelace",
      active: true,
      deleted: false,
    });
    expect(wanted!.eventId).toMatch(/^scim-/);
    expect(wanted!.t).toBe(Date.parse(res.body.meta.lastModified));
    expect((await t.queue.getJobCounts("waiting")).waiting).toBe(jobsBefore + 1);
  });

  it("refuses a userName taken in another case with 409 uniqueness", async () => {
    await createUser("grace@example.com");
    const res = await t.request("POST", "/Users", scimUser("GRACE@Example.COM"));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ status: "409", scimType: "uniqueness" });
    expect(res.body.detail).toContain("userName");
  });

  it("keeps the enterprise extension and drops read-only, unknown and password attributes", async () => {
    const res = await t.request(
      "POST",
      "/Users",
      scimUser("ext@example.com", {
        id: "client-chosen",
        password: "Secret-1234",
        roles: [],
        shoeSize: 42,
        meta: { resourceType: "User" },
        [ENTERPRISE_USER_SCHEMA]: { department: "R&D", employeeNumber: 7 },
      }),
    );
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe("client-chosen");
    expect(res.body.schemas).toContain(ENTERPRISE_USER_SCHEMA);
    expect(res.body[ENTERPRISE_USER_SCHEMA]).toEqual({ department: "R&D", employeeNumber: "7" });
    for (const k of ["password", "roles", "shoeSize"]) expect(res.body).not.toHaveProperty(k);
  });

  it.each<[string, unknown, string | undefined, number, string | undefined, string]>([
    [
      "no email anywhere",
      { userName: "ada", name: { givenName: "Ada" } },
      "application/scim+json",
      400,
      "invalidValue",
      "emails",
    ],
    [
      "no userName",
      { emails: [{ value: "a@b.c" }] },
      "application/json",
      400,
      "invalidValue",
      "userName",
    ],
    [
      "active not a boolean",
      scimUser("x@example.com", { active: "yes" }),
      undefined,
      400,
      "invalidValue",
      "active",
    ],
    [
      "emails not objects",
      { userName: "x@example.com", emails: ["x"] },
      undefined,
      400,
      "invalidValue",
      "emails[0]",
    ],
    ["malformed JSON", "{", "application/scim+json", 400, "invalidSyntax", "not JSON"],
    ["an array body", [], "application/scim+json", 400, "invalidSyntax", "JSON object"],
    ["a text body", "userName=x", "text/plain", 415, undefined, "application/scim+json"],
  ])("refuses %s with a SCIM error", async (_name, body, contentType, status, scimType, detail) => {
    const res = await t.request(
      "POST",
      "/Users",
      body,
      contentType ? { "content-type": contentType } : {},
    );
    expect(res.status).toBe(status);
    expect(res.body.schemas).toEqual([ERROR_SCHEMA]);
    expect(res.body.status).toBe(String(status));
    expect(res.body.scimType).toBe(scimType);
    expect(res.body.detail).toContain(detail);
  });

  it("answers 413 past the 1 MiB body limit", async () => {
    const big = scimUser("big@example.com", { title: "x".repeat(1024 * 1024 + 10) });
    const res = await t.request("POST", "/Users", big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: "413" });
  });

  it("accepts application/json and a userName that is the only email", async () => {
    const res = await t.request(
      "POST",
      "/Users",
      { userName: "only.name@example.com" },
      { "content-type": "application/json; charset=utf-8" },
    );
    expect(res.status).toBe(201);
    expect((await t.wanted.getUser(res.body.id))?.email).toBe("only.name@example.com");
  });
});

describe("GET /Users", () => {
  let ids: string[];
  beforeAll(async () => {
    ids = [];
    for (const n of [1, 2, 3, 4, 5]) ids.push((await createUser(`page${n}@paging.example`)).id);
    const soft = await createUser("soft.deleted@paging.example");
    await t.request(
      "PATCH",
      `/Users/${soft.id}`,
      patchOp({ op: "Replace", path: "active", value: "False" }),
    );
    ids.push(soft.id);
  });

  it("reads one user by id, and 404 noTarget for an unknown id", async () => {
    const res = await t.request("GET", `/Users/${ids[0]}`);
    expect(res.status).toBe(200);
    expect(res.body.userName).toBe("page1@paging.example");
    const missing = await t.request("GET", "/Users/no-such-id");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: "404", scimType: "noTarget" });
    expect(missing.body.detail).toContain("no-such-id");
  });

  it("finds a user by userName, case-insensitively, and answers an empty list for none", async () => {
    const res = await t.request(
      "GET",
      `/Users?filter=${encodeURIComponent('userName eq "PAGE3@Paging.Example"')}`,
    );
    expect(res.body).toMatchObject({
      schemas: [LIST_RESPONSE],
      totalResults: 1,
      startIndex: 1,
      itemsPerPage: 1,
    });
    expect(res.body.Resources[0].id).toBe(ids[2]);
    const none = await t.request(
      "GET",
      `/Users?filter=${encodeURIComponent('userName eq "4a1f-random@x.example"')}`,
    );
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });
  });

  it("still shows soft-deleted (active=false) users to queries", async () => {
    const res = await t.request(
      "GET",
      `/Users?filter=${encodeURIComponent('userName eq "soft.deleted@paging.example"')}`,
    );
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0].active).toBe(false);
  });

  it("pages in a stable order with startIndex and count", async () => {
    const filter = encodeURIComponent('userName ew "@paging.example"');
    const page = await t.request("GET", `/Users?filter=${filter}&startIndex=2&count=2`);
    expect(page.body).toMatchObject({ totalResults: 6, startIndex: 2, itemsPerPage: 2 });
    expect(page.body.Resources.map((r: { id: string }) => r.id)).toEqual(ids.slice(1, 3));
    const last = await t.request("GET", `/Users?filter=${filter}&startIndex=6&count=100`);
    expect(last.body.Resources.map((r: { id: string }) => r.id)).toEqual([ids[5]]);
    const beyond = await t.request("GET", `/Users?filter=${filter}&startIndex=50`);
    expect(beyond.body).toMatchObject({ totalResults: 6, itemsPerPage: 0, Resources: [] });
  });

  it("answers count=0 with totalResults only, and clamps startIndex < 1", async () => {
    const filter = encodeURIComponent('userName ew "@paging.example"');
    const res = await t.request("GET", `/Users?filter=${filter}&count=0`);
    expect(res.body).toMatchObject({ totalResults: 6, itemsPerPage: 0, Resources: [] });
    const low = await t.request("GET", `/Users?filter=${filter}&startIndex=-3&count=1`);
    expect(low.body).toMatchObject({ startIndex: 1, itemsPerPage: 1 });
  });

  it.each([
    ["startIndex=abc", "invalidValue", "startIndex"],
    ["count=1.5", "invalidValue", "count"],
    [`filter=${encodeURIComponent('userName eq "unterminated')}`, "invalidFilter", "not valid"],
    [`filter=${encodeURIComponent('shoeSize eq "42"')}`, "invalidFilter", "shoeSize"],
  ])("answers ?%s with 400 %s", async (query, scimType, detail) => {
    const res = await t.request("GET", `/Users?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe(scimType);
    expect(res.body.detail).toContain(detail);
  });

  it("projects attributes and excludedAttributes", async () => {
    const only = await t.request("GET", `/Users/${ids[0]}?attributes=userName,name.givenName`);
    expect(only.body).toEqual({
      schemas: expect.any(Array),
      id: ids[0],
      userName: "page1@paging.example",
      name: { givenName: "page1" },
    });
    const without = await t.request("GET", `/Users/${ids[0]}?excludedAttributes=emails,meta`);
    expect(without.body).not.toHaveProperty("emails");
    expect(without.body).not.toHaveProperty("meta");
    expect(without.body.userName).toBe("page1@paging.example");
  });

  it("shows the IONOS twin from the sync records", async () => {
    await t.records.set("user", ids[0]!, {
      ionosId: "ionos-u-1",
      state: "failed",
      lastResult: "update failed",
      lastError: "422 email taken",
    });
    const res = await t.request("GET", `/Users/${ids[0]}`);
    expect(res.body[IONOS_USER_SCHEMA]).toEqual({
      ionosUserId: "ionos-u-1",
      syncState: "failed",
      lastResult: "update failed",
      lastError: "422 email taken",
    });
  });

  it("answers 304 to If-None-Match with the current version", async () => {
    const res = await t.request("GET", `/Users/${ids[1]}`, undefined, { "if-none-match": 'W/"1"' });
    expect(res.status).toBe(304);
  });
});

describe("PUT, PATCH and DELETE /Users", () => {
  it("PUT replaces the user and bumps the version; unchanged PUT keeps it", async () => {
    const u = await createUser("put.me@example.com");
    const body = scimUser("put.me@example.com", { name: { givenName: "Put", familyName: "Me" } });
    const res = await t.request("PUT", `/Users/${u.id}`, { ...body, id: u.id });
    expect(res.status).toBe(200);
    expect(res.body.meta.version).toBe('W/"2"');
    expect(res.body.name).toEqual({ givenName: "Put", familyName: "Me" });
    expect(await t.wanted.getUser(u.id)).toMatchObject({ firstName: "Put", lastName: "Me" });
    const again = await t.request("PUT", `/Users/${u.id}`, body);
    expect(again.body.meta.version).toBe('W/"2"');
  });

  it("PUT to a userName another user holds is 409, and renames free the old name", async () => {
    const a = await createUser("rename.a@example.com");
    await createUser("rename.b@example.com");
    const taken = await t.request("PUT", `/Users/${a.id}`, scimUser("Rename.B@example.com"));
    expect(taken.status).toBe(409);
    const moved = await t.request("PUT", `/Users/${a.id}`, scimUser("rename.c@example.com"));
    expect(moved.status).toBe(200);
    expect((await t.request("POST", "/Users", scimUser("rename.a@example.com"))).status).toBe(201);
  });

  it("PATCH active=False deactivates, True reactivates (user.deactivated / reactivated)", async () => {
    const u = await createUser("patch.active@example.com");
    const off = await t.request(
      "PATCH",
      `/Users/${u.id}`,
      patchOp({ op: "Replace", path: "active", value: "False" }),
    );
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect(await t.wanted.getUser(u.id)).toMatchObject({ active: false, deleted: false });
    const on = await t.request(
      "PATCH",
      `/Users/${u.id}`,
      patchOp({ op: "replace", value: { active: true } }),
    );
    expect(on.body.active).toBe(true);
    expect(await t.wanted.getUser(u.id)).toMatchObject({ active: true });
  });

  it("PATCH answers 404 for an unknown user and 400 for a bad operation", async () => {
    expect(
      (await t.request(
        "PATCH",
        "/Users/nope",
        patchOp({ op: "replace", value: { active: false } }),
      )).status,
    )
      .toBe(404);
    const u = await createUser("patch.bad@example.com");
    const res = await t.request(
      "PATCH",
      `/Users/${u.id}`,
      patchOp({ op: "replace", path: "id", value: "x" }),
    );
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe("mutability");
  });

  it("honours If-Match: 412 on a stale version", async () => {
    const u = await createUser("if.match@example.com");
    const stale = await t.request(
      "PATCH",
      `/Users/${u.id}`,
      patchOp({ op: "replace", path: "title", value: "Dr" }),
      { "if-match": 'W/"7"' },
    );
    expect(stale.status).toBe(412);
    const fresh = await t.request(
      "PATCH",
      `/Users/${u.id}`,
      patchOp({ op: "replace", path: "title", value: "Dr" }),
      { "if-match": u.meta.version },
    );
    expect(fresh.status).toBe(200);
  });

  it("DELETE answers 204, then 404, and removes the user from its groups", async () => {
    const u = await createUser("delete.me@example.com");
    const g = await t.request("POST", "/Groups", {
      displayName: "Deleters",
      members: [{ value: u.id }],
    });
    expect(g.status).toBe(201);
    const del = await t.request("DELETE", `/Users/${u.id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeNull();
    expect((await t.request("GET", `/Users/${u.id}`)).status).toBe(404);
    expect((await t.request("DELETE", `/Users/${u.id}`)).status).toBe(404);
    expect((await t.request("GET", `/Groups/${g.body.id}`)).body.members).toBeUndefined();
    expect(await t.wanted.getUser(u.id)).toMatchObject({ deleted: true });
    expect(await t.wanted.getMembers(g.body.id)).toEqual([]);
    // The userName is free again.
    expect((await t.request("POST", "/Users", scimUser("delete.me@example.com"))).status).toBe(201);
  });
});

describe("/Groups", () => {
  it("creates a group with members and ingests them (member values are our user ids)", async () => {
    const a = await createUser("member.a@example.com");
    const b = await createUser("member.b@example.com");
    const res = await t.request("POST", "/Groups", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      displayName: "Cloud Admins",
      externalId: "00gAdmins",
      members: [{ value: a.id, display: "member.a@example.com" }, { value: b.id }],
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`http://scim.test/scim/v2/Groups/${res.body.id}`);
    expect(res.body.members).toHaveLength(2);
    expect(await t.wanted.getGroup(res.body.id)).toMatchObject({ displayName: "Cloud Admins" });
    expect((await t.wanted.getMembers(res.body.id)).sort()).toEqual([a.id, b.id].sort());
  });

  it("keeps displayName unique (409) and finds groups by displayName without members", async () => {
    const g = await t.request("POST", "/Groups", { displayName: "Unique Team", members: [] });
    expect(g.status).toBe(201);
    const dup = await t.request("POST", "/Groups", { displayName: "unique team" });
    expect(dup.status).toBe(409);
    expect(dup.body.scimType).toBe("uniqueness");
    const res = await t.request(
      "GET",
      `/Groups?excludedAttributes=members&filter=${
        encodeURIComponent('displayName eq "Unique Team"')
      }`,
    );
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0]).not.toHaveProperty("members");
    expect(res.body.Resources[0]).not.toHaveProperty(IONOS_USER_SCHEMA);
  });

  it("refuses a group as a member: IONOS has no nested groups", async () => {
    const inner = await t.request("POST", "/Groups", { displayName: "Inner" });
    const res = await t.request("POST", "/Groups", {
      displayName: "Outer",
      members: [{ value: inner.body.id }],
    });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe("invalidValue");
    expect(res.body.detail).toContain("nested");
  });

  it("PATCH member add/remove reaches the wanted state; rename keeps members", async () => {
    const a = await createUser("patch.member.a@example.com");
    const b = await createUser("patch.member.b@example.com");
    const g = await t.request("POST", "/Groups", {
      displayName: "Patchers",
      members: [{ value: a.id }],
    });
    const id = g.body.id as string;
    await t.request(
      "PATCH",
      `/Groups/${id}`,
      patchOp({ op: "add", path: "members", value: [{ value: b.id }] }),
    );
    expect((await t.wanted.getMembers(id)).sort()).toEqual([a.id, b.id].sort());
    const removed = await t.request(
      "PATCH",
      `/Groups/${id}`,
      patchOp({ op: "remove", path: `members[value eq "${a.id}"]` }),
    );
    expect(removed.body.members).toEqual([{ value: b.id }]);
    expect(await t.wanted.getMembers(id)).toEqual([b.id]);
    const renamed = await t.request(
      "PATCH",
      `/Groups/${id}`,
      patchOp({ op: "replace", value: { id, displayName: "Patchers EU" } }),
    );
    expect(renamed.body.displayName).toBe("Patchers EU");
    expect(await t.wanted.getGroup(id)).toMatchObject({ displayName: "Patchers EU" });
    expect(await t.wanted.getMembers(id)).toEqual([b.id]);
  });

  it("PUT replaces members; DELETE answers 204 then 404", async () => {
    const a = await createUser("put.member@example.com");
    const g = await t.request("POST", "/Groups", {
      displayName: "Putters",
      members: [{ value: a.id }],
    });
    const id = g.body.id as string;
    const put = await t.request("PUT", `/Groups/${id}`, { displayName: "Putters", members: [] });
    expect(put.status).toBe(200);
    expect(await t.wanted.getMembers(id)).toEqual([]);
    expect((await t.request("DELETE", `/Groups/${id}`)).status).toBe(204);
    expect((await t.request("GET", `/Groups/${id}`)).status).toBe(404);
    expect(await t.wanted.getGroup(id)).toMatchObject({ deleted: true });
  });
});

describe("SCIM when Redis fails", () => {
  it("journals a change whose ingest failed, answers 503, and ingests it on the next write", async () => {
    // The queue refuses, as if Redis went away between storing and enqueueing: it has its own
    // connection, closed before the request, that fails at once instead of queueing commands.
    const queueClient = new Redis(t.redis.url, { enableOfflineQueue: false, lazyConnect: true });
    queueClient.on("error", () => {});
    await queueClient.connect();
    const brokenQueue = createSyncQueue(queueClient);
    brokenQueue.on("error", () => {});
    await brokenQueue.waitUntilReady();
    queueClient.disconnect();
    const broken = new Hono().route(
      "/scim/v2",
      scimApp({
        token: TOKEN,
        store: t.store,
        records: t.records,
        ingest: { store: t.wanted, queue: brokenQueue },
        logger: silentLogger,
      }),
    );
    const res = await broken.request("http://scim.test/scim/v2/Users", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/scim+json" },
      body: JSON.stringify(scimUser("journal@example.com")),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    await brokenQueue.close();
    expect((await t.store.pendingEvents()).map((e) => e.type)).toEqual(["user.created"]);
    // The next write through a healthy app ingests the journal first.
    await createUser("after.journal@example.com");
    expect(await t.store.pendingEvents()).toEqual([]);
    const found = await t.request(
      "GET",
      `/Users?filter=${encodeURIComponent('userName eq "journal@example.com"')}`,
    );
    expect(found.body.totalResults).toBe(1);
    expect(await t.wanted.getUser(found.body.Resources[0].id)).toMatchObject({
      email: "journal@example.com",
    });
  });

  it("answers 503 with a SCIM error while Redis is down, never 2xx", async () => {
    await t.redis.kill();
    try {
      const post = await t.request("POST", "/Users", scimUser("down@example.com"));
      expect(post.status).toBe(503);
      expect(post.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: "503" });
      expect((await t.request("GET", "/Users")).status).toBe(503);
    } finally {
      await t.redis.restart();
    }
    // Back up: the client reconnects and writes work again.
    for (let i = 0; i < 50 && t.client.status !== "ready"; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await t.request("POST", "/Users", scimUser("up.again@example.com"))).status).toBe(201);
  });
});
