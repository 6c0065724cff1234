import { describe, expect, it } from "vitest";
import {
  createIonosSimulator,
  type IonosSimulator,
} from "../../../../src/targets/ionos/simulator/mod.ts";
import { IONOS_PRIVILEGES } from "../../../../src/targets/ionos/types.ts";

const AUTH = { Authorization: "Bearer sim-token" };

// deno-lint-ignore no-explicit-any
type Json = any;

async function call(
  sim: IonosSimulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Json }> {
  const res = await sim.app.request(`/cloudapi/v6${path}`, {
    method,
    headers: {
      ...AUTH,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

function newSim(extra: Parameters<typeof createIonosSimulator>[0] = {}): IonosSimulator {
  return createIonosSimulator({ rateLimitPerSecond: 0, requestDelayMs: 0, seed: 1, ...extra });
}

const ann = {
  firstname: "Ann",
  lastname: "Lee",
  email: "ann@example.org",
  password: "correct horse battery",
};

async function createUser(
  sim: IonosSimulator,
  props: Record<string, unknown> = ann,
): Promise<string> {
  const res = await call(sim, "POST", "/um/users", { properties: props });
  expect(res.status).toBe(202);
  return res.body.id;
}

function expectIonosError(body: Json, status: number): void {
  expect(body.httpStatus).toBe(status);
  expect(body.messages).toHaveLength(1);
  expect(typeof body.messages[0].errorCode).toBe("string");
  expect(typeof body.messages[0].message).toBe("string");
}

describe("users", () => {
  it("POST /um/users answers 202 + Location whose request goes QUEUED -> DONE", async () => {
    const sim = newSim({ requestDelayMs: 60 });
    const res = await call(sim, "POST", "/um/users", { properties: ann });
    expect(res.status).toBe(202);
    const location = res.headers.get("location")!;
    expect(location).toMatch(/^http:\/\/localhost\/cloudapi\/v6\/requests\/[0-9a-f-]{36}\/status$/);
    expect(res.body).toMatchObject({
      type: "user",
      properties: { email: ann.email, active: true },
    });
    expect(JSON.stringify(res.body)).not.toContain(ann.password);

    const statusPath = new URL(location).pathname.replace("/cloudapi/v6", "");
    const first = await call(sim, "GET", statusPath);
    expect(first.body.metadata.status).toBe("QUEUED");
    expect(first.body.type).toBe("request-status");
    await new Promise((r) => setTimeout(r, 80));
    const done = await call(sim, "GET", statusPath);
    expect(done.body.metadata).toMatchObject({
      status: "DONE",
      targets: [{ target: { id: res.body.id, type: "user" }, status: "DONE" }],
    });
  });

  it("GET /um/users/{id} returns the user without a password", async () => {
    const sim = newSim();
    const id = await createUser(sim);
    const res = await call(sim, "GET", `/um/users/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      type: "user",
      href: `http://localhost/cloudapi/v6/um/users/${id}`,
      properties: {
        firstname: "Ann",
        lastname: "Lee",
        email: ann.email,
        administrator: false,
        forceSecAuth: false,
        secAuthActive: false,
        active: true,
      },
    });
    expect(res.body.metadata.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(res.body.metadata.createdDate).toBeTypeOf("string");
    expect(res.body.properties.s3CanonicalUserId).toBeTypeOf("string");
    expect(JSON.stringify(res.body)).not.toMatch(/password/i);
  });

  it.each([
    ["firstname missing", { ...ann, firstname: undefined }],
    ["password missing", { ...ann, password: undefined }],
    ["password too short", { ...ann, password: "1234" }],
    ["email invalid", { ...ann, email: "not-an-email" }],
    ["secAuthActive on create", { ...ann, secAuthActive: false }],
    ["administrator not boolean", { ...ann, administrator: "yes" }],
  ])("POST /um/users refuses %s with 422", async (_name, props) => {
    const sim = newSim();
    const res = await call(sim, "POST", "/um/users", { properties: props });
    expect(res.status).toBe(422);
    expectIonosError(res.body, 422);
    expect(sim.state.users()).toHaveLength(0);
  });

  it("POST /um/users refuses a duplicate email (any case) with 422 naming it", async () => {
    const sim = newSim();
    await createUser(sim);
    const res = await call(sim, "POST", "/um/users", {
      properties: { ...ann, email: "ANN@example.org" },
    });
    expect(res.status).toBe(422);
    expectIonosError(res.body, 422);
    expect(res.body.messages[0].message).toContain("ANN@example.org");
  });

  it("answers 400 to bad JSON and 415 to a non-JSON content type", async () => {
    const sim = newSim();
    const bad = await call(sim, "POST", "/um/users", "{not json");
    expect(bad.status).toBe(400);
    expectIonosError(bad.body, 400);
    const res = await sim.app.request("/cloudapi/v6/um/users", {
      method: "POST",
      headers: { ...AUTH, "Content-Type": "text/plain" },
      body: JSON.stringify({ properties: ann }),
    });
    expect(res.status).toBe(415);
    expectIonosError(await res.json(), 415);
  });

  it("filter.email matches case-insensitively and exactly", async () => {
    const sim = newSim();
    const id = await createUser(sim);
    await createUser(sim, { ...ann, email: "joann@example.org" });
    const res = await call(sim, "GET", "/um/users?depth=1&filter.email=ANN%40EXAMPLE.ORG");
    expect(res.status).toBe(200);
    expect(res.body.items.map((u: Json) => u.id)).toEqual([id]);
    expect(res.body.items[0].properties.email).toBe(ann.email);
    const none = await call(sim, "GET", "/um/users?filter.email=nobody%40example.org");
    expect(none.body.items).toEqual([]);
    const unknown = await call(sim, "GET", "/um/users?filter.shoeSize=42");
    expect(unknown.status).toBe(400);
  });

  it("pages with offset and limit, with _links, and refs at depth 0", async () => {
    const sim = newSim();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await createUser(sim, { ...ann, email: `u${i}@example.org` }));
    }
    const page = await call(sim, "GET", "/um/users?offset=2&limit=2");
    expect(page.body).toMatchObject({ type: "collection", offset: 2, limit: 2 });
    expect(page.body.items).toEqual([
      { id: ids[2], type: "user", href: `http://localhost/cloudapi/v6/um/users/${ids[2]}` },
      { id: ids[3], type: "user", href: `http://localhost/cloudapi/v6/um/users/${ids[3]}` },
    ]);
    expect(page.body._links.prev).toContain("offset=0");
    expect(page.body._links.next).toContain("offset=4");
    const last = await call(sim, "GET", "/um/users?offset=4&depth=1");
    expect(last.body.limit).toBe(100);
    expect(last.body.items).toHaveLength(1);
    expect(last.body.items[0].properties.email).toBe("u4@example.org");
    expect(last.body._links.next).toBeUndefined();
    for (const q of ["limit=0", "limit=101", "offset=-1", "depth=x"]) {
      expect((await call(sim, "GET", `/um/users?${q}`)).status).toBe(400);
    }
  });

  it("PUT /um/users/{id} replaces the full property set", async () => {
    const sim = newSim();
    const id = await createUser(sim);
    const full = {
      firstname: "Anne",
      lastname: "Lee-Smith",
      email: "anne@example.org",
      administrator: false,
      forceSecAuth: true,
      active: false,
    };
    const res = await call(sim, "PUT", `/um/users/${id}`, { id, properties: full });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toContain("/requests/");
    expect(res.body.properties).toMatchObject(full);
    expect(sim.state.user(id)!.properties).toMatchObject(full);

    const partial = await call(sim, "PUT", `/um/users/${id}`, { properties: { firstname: "X" } });
    expect(partial.status).toBe(422);
    const missing = await call(sim, "PUT", `/um/users/00000000-0000-4000-8000-000000000001`, {
      properties: full,
    });
    expect(missing.status).toBe(404);
    expectIonosError(missing.body, 404);
    const other = await createUser(sim);
    const taken = await call(sim, "PUT", `/um/users/${other}`, { properties: full });
    expect(taken.status).toBe(422);
    expect(taken.body.messages[0].message).toContain("anne@example.org");
  });

  it("DELETE /um/users/{id} answers 202 without body, then GET is 404", async () => {
    const sim = newSim();
    const id = await createUser(sim);
    const res = await call(sim, "DELETE", `/um/users/${id}`);
    expect(res.status).toBe(202);
    expect(res.body).toBeUndefined();
    expect(res.headers.get("location")).toMatch(/\/requests\/[0-9a-f-]+\/status$/);
    const gone = await call(sim, "GET", `/um/users/${id}`);
    expect(gone.status).toBe(404);
    expectIonosError(gone.body, 404);
    expect((await call(sim, "DELETE", `/um/users/${id}`)).status).toBe(404);
  });

  it("shows users a human added or changed in the console (state helpers)", async () => {
    const sim = newSim();
    const u = sim.state.addUser({ firstname: "Con", lastname: "Sole", email: "con@example.org" });
    sim.state.updateUser(u.id, { administrator: true });
    const res = await call(sim, "GET", `/um/users?depth=1&filter.email=con%40example.org`);
    expect(res.body.items[0].properties).toMatchObject({ administrator: true, active: true });
    expect(() => sim.state.addUser({ firstname: "a", lastname: "b", email: "CON@example.org" }))
      .toThrow(/already in use/);
  });
});

describe("groups and members", () => {
  it("creates, updates (full set) and deletes a group", async () => {
    const sim = newSim();
    const created = await call(sim, "POST", "/um/groups", {
      properties: { name: "devs", createDatacenter: true, reserveIp: true },
    });
    expect(created.status).toBe(202);
    expect(created.headers.get("location")).toContain("/requests/");
    const id = created.body.id;
    expect(created.body).toMatchObject({ type: "group", properties: { name: "devs" } });
    for (const p of IONOS_PRIVILEGES) {
      expect(created.body.properties[p]).toBe(p === "createDataCenter" || p === "reserveIp");
    }
    const put = await call(sim, "PUT", `/um/groups/${id}`, {
      properties: { name: "developers", createDataCenter: true },
    });
    expect(put.status).toBe(202);
    expect(put.body.properties).toMatchObject({
      name: "developers",
      createDataCenter: true,
      reserveIp: false,
    });
    expect((await call(sim, "POST", "/um/groups", { properties: {} })).status).toBe(422);

    const del = await call(sim, "DELETE", `/um/groups/${id}`);
    expect(del.status).toBe(202);
    expect((await call(sim, "GET", `/um/groups/${id}`)).status).toBe(404);
    expect((await call(sim, "PUT", `/um/groups/${id}`, { properties: { name: "x" } })).status).toBe(
      404,
    );
  });

  it("adds and removes members, with 422 for already-member and 404s", async () => {
    const sim = newSim();
    const uid = await createUser(sim);
    const gid = (await call(sim, "POST", "/um/groups", { properties: { name: "ops" } })).body.id;

    const add = await call(sim, "POST", `/um/groups/${gid}/users`, { id: uid });
    expect(add.status).toBe(202);
    expect(add.headers.get("location")).toContain("/requests/");
    expect(add.body).toMatchObject({ id: uid, type: "user" });
    expect(sim.state.members(gid)).toEqual([uid]);

    const again = await call(sim, "POST", `/um/groups/${gid}/users`, { id: uid });
    expect(again.status).toBe(422);
    expectIonosError(again.body, 422);
    const noUser = await call(sim, "POST", `/um/groups/${gid}/users`, {
      id: "00000000-0000-4000-8000-000000000009",
    });
    expect(noUser.status).toBe(404);
    const noGroup = await call(
      sim,
      "POST",
      `/um/groups/00000000-0000-4000-8000-000000000009/users`,
      {
        id: uid,
      },
    );
    expect(noGroup.status).toBe(404);

    const members = await call(sim, "GET", `/um/groups/${gid}/users?depth=1`);
    expect(members.body.items.map((u: Json) => u.properties.email)).toEqual([ann.email]);
    const groups = await call(sim, "GET", `/um/users/${uid}/groups`);
    expect(groups.body.items).toEqual([
      { id: gid, type: "group", href: `http://localhost/cloudapi/v6/um/groups/${gid}` },
    ]);
    const user = await call(sim, "GET", `/um/users/${uid}?depth=1`);
    expect(user.body.entities.groups.items.map((g: Json) => g.id)).toEqual([gid]);
    const group = await call(sim, "GET", `/um/groups/${gid}?depth=1`);
    expect(group.body.entities.users.items.map((u: Json) => u.id)).toEqual([uid]);
    const shallow = await call(sim, "GET", `/um/users/${uid}`);
    expect(shallow.body.entities.groups.items).toBeUndefined();

    const remove = await call(sim, "DELETE", `/um/groups/${gid}/users/${uid}`);
    expect(remove.status).toBe(202);
    expect(remove.body).toBeUndefined();
    expect(sim.state.members(gid)).toEqual([]);
    expect((await call(sim, "DELETE", `/um/groups/${gid}/users/${uid}`)).status).toBe(404);
  });

  it("deleting a user drops its memberships", async () => {
    const sim = newSim();
    const uid = await createUser(sim);
    const g = sim.state.addGroup({ name: "g" });
    sim.state.addMember(g.id, uid);
    await call(sim, "DELETE", `/um/users/${uid}`);
    expect(sim.state.members(g.id)).toEqual([]);
  });

  it("refuses writes on a user whose create request is not DONE yet", async () => {
    const sim = newSim({ requestDelayMs: 100 });
    const uid = await createUser(sim);
    const g = sim.state.addGroup({ name: "g" }); // console-made: no pending request
    const early = await call(sim, "POST", `/um/groups/${g.id}/users`, { id: uid });
    expect(early.status).toBe(422);
    expect(early.body.messages[0].message).toContain("still being created");
    await new Promise((r) => setTimeout(r, 120));
    expect((await call(sim, "POST", `/um/groups/${g.id}/users`, { id: uid })).status).toBe(202);
  });
});

describe("protocol", () => {
  it.each([
    ["no header", undefined],
    ["wrong token", "Bearer nope"],
    ["wrong password", `Basic ${btoa("sim@example.com:wrong")}`],
    ["unknown scheme", "Token sim-token"],
  ])("answers 401 with an IONOS error for %s", async (_name, authorization) => {
    const sim = newSim();
    const res = await sim.app.request("/cloudapi/v6/um/users", {
      headers: authorization ? { Authorization: authorization } : {},
    });
    expect(res.status).toBe(401);
    expectIonosError(await res.json(), 401);
  });

  it("accepts Basic auth and X-Contract-Number", async () => {
    const sim = newSim();
    const res = await sim.app.request("/cloudapi/v6/um/groups", {
      headers: {
        Authorization: `Basic ${btoa("sim@example.com:sim-password")}`,
        "X-Contract-Number": "31415",
      },
    });
    expect(res.status).toBe(200);
    expect(sim.callLog.at(-1)).toMatchObject({
      auth: "basic",
      contractNumber: "31415",
      status: 200,
    });
  });

  it("answers 405 to other methods, 404 to unknown paths and request ids", async () => {
    const sim = newSim();
    const patch = await call(sim, "PATCH", "/um/users", { properties: {} });
    expect(patch.status).toBe(405);
    expectIonosError(patch.body, 405);
    expect((await call(sim, "GET", "/um/nothing")).status).toBe(404);
    const req = await call(sim, "GET", "/requests/00000000-0000-4000-8000-000000000000/status");
    expect(req.status).toBe(404);
    expectIonosError(req.body, 404);
  });
});
