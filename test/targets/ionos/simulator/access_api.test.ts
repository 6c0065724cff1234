/**
 * The simulator's group shares, /um/resources and S3 keys, against the references: v6 REST
 * (shares, resources) and v5 (s3keys, same paths in v6). Paths, bodies, 202 + request
 * `Location`, 404s, IONOS error bodies, undo of FAILED requests, and the shared rate limit.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createIonosSimulator,
  type IonosSimulator,
} from "../../../../src/targets/ionos/simulator/mod.ts";

const AUTH = { Authorization: "Bearer sim-token" };
// deno-lint-ignore no-explicit-any
type Json = any;

async function call(
  sim: IonosSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: Json }> {
  const res = await sim.app.request(`/cloudapi/v6${path}`, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const newSim = (extra: Parameters<typeof createIonosSimulator>[0] = {}) =>
  createIonosSimulator({ rateLimitPerSecond: 0, requestDelayMs: 0, seed: 7, ...extra });

function expectIonosError(res: { status: number; body: Json }, status: number, text?: string) {
  expect(res.status).toBe(status);
  expect(res.body.httpStatus).toBe(status);
  expect(res.body.messages).toHaveLength(1);
  expect(typeof res.body.messages[0].errorCode).toBe("string");
  if (text) expect(res.body.messages[0].message).toContain(text);
}

const SHARE = { type: "resource", properties: { editPrivilege: true, sharePrivilege: false } };

function setup(sim: IonosSimulator) {
  const g = sim.state.addGroup({ name: "team" });
  const dc = sim.access.addResource("datacenter", "dc-1");
  const snap = sim.access.addResource("snapshot", "snap-1");
  return { g, dc, snap };
}

afterEach(() => vi.useRealTimers());

describe("group shares", () => {
  it("POST, GET, PUT and DELETE a share on the reference paths, each write 202 + Location", async () => {
    const sim = newSim();
    const { g, dc } = setup(sim);
    const path = `/um/groups/${g.id}/shares/${dc.id}`;
    const created = await call(sim, "POST", path, SHARE);
    expect(created.status).toBe(202);
    expect(created.headers.get("location")).toMatch(/\/cloudapi\/v6\/requests\/[^/]+\/status$/);
    expect(created.body).toMatchObject({
      id: dc.id,
      type: "resource",
      properties: { editPrivilege: true, sharePrivilege: false },
    });
    expect(created.body.href).toMatch(new RegExp(`/um/groups/${g.id}/shares/${dc.id}$`));

    const list = await call(sim, "GET", `/um/groups/${g.id}/shares?depth=1`);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ type: "collection", items: [{ id: dc.id }] });
    const refs = await call(sim, "GET", `/um/groups/${g.id}/shares?depth=0`);
    expect(refs.body.items[0].properties).toBeUndefined();

    const updated = await call(sim, "PUT", path, {
      properties: { editPrivilege: false, sharePrivilege: true },
    });
    expect(updated.status).toBe(202);
    expect((await call(sim, "GET", path)).body.properties).toEqual({
      editPrivilege: false,
      sharePrivilege: true,
    });

    const removed = await call(sim, "DELETE", path);
    expect(removed.status).toBe(202);
    expect(removed.headers.get("location")).toBeTruthy();
    expectIonosError(await call(sim, "GET", path), 404);
    expectIonosError(await call(sim, "DELETE", path), 404);
  });

  it("answers a PUT with an empty body 200 and the current share, changing nothing", async () => {
    const sim = newSim();
    const { g, dc } = setup(sim);
    await call(sim, "POST", `/um/groups/${g.id}/shares/${dc.id}`, SHARE);
    const res = await sim.app.request(`/cloudapi/v6/um/groups/${g.id}/shares/${dc.id}`, {
      method: "PUT",
      headers: AUTH,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("location")).toBeNull();
    expect((await res.json()).properties).toEqual(SHARE.properties);
  });

  it.each([
    ["a missing group", "group", 404],
    ["a missing resource", "resource", 404],
    ["a resource already shared", "twice", 422],
    ["flags that are not booleans", "badflag", 422],
    ["a body that is not JSON", "badjson", 400],
  ])("refuses a share of %s", async (_name, kind, status) => {
    const sim = newSim();
    const { g, dc } = setup(sim);
    let gid = g.id;
    let rid = dc.id;
    let body: unknown = SHARE;
    if (kind === "group") gid = crypto.randomUUID();
    if (kind === "resource") rid = crypto.randomUUID();
    if (kind === "twice") await call(sim, "POST", `/um/groups/${gid}/shares/${rid}`, SHARE);
    if (kind === "badflag") body = { properties: { editPrivilege: "yes" } };
    if (kind === "badjson") body = "{not json";
    expectIonosError(await call(sim, "POST", `/um/groups/${gid}/shares/${rid}`, body), status);
  });

  it("drops a group's shares with the group and brings them back if the delete FAILED", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.UTC(2026, 0, 1) });
    const sim = newSim();
    const { g, dc } = setup(sim);
    await call(sim, "POST", `/um/groups/${g.id}/shares/${dc.id}`, SHARE);
    sim.setTiming({ duration: { kind: "fixed", ms: 10 }, failRate: 1 });
    expect((await call(sim, "DELETE", `/um/groups/${g.id}`)).status).toBe(202);
    expectIonosError(await call(sim, "GET", `/um/groups/${g.id}/shares`), 404);
    vi.setSystemTime(Date.UTC(2026, 0, 1) + 10);
    const back = await call(sim, "GET", `/um/groups/${g.id}/shares`);
    expect(back.body.items.map((s: Json) => s.id)).toEqual([dc.id]);
  });

  it("undoes share writes whose request ends FAILED", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.UTC(2026, 0, 1) });
    const sim = newSim();
    const { g, dc, snap } = setup(sim);
    sim.access.addShare(g.id, snap.id, { editPrivilege: true });
    sim.setTiming({ duration: { kind: "fixed", ms: 10 }, failRate: 1 });
    await call(sim, "POST", `/um/groups/${g.id}/shares/${dc.id}`, SHARE);
    await call(sim, "PUT", `/um/groups/${g.id}/shares/${snap.id}`, {
      properties: { editPrivilege: false },
    });
    vi.setSystemTime(Date.UTC(2026, 0, 1) + 10);
    await call(sim, "GET", "/um/groups");
    expect(sim.access.shares(g.id)).toEqual([
      { resourceId: snap.id, editPrivilege: true, sharePrivilege: false },
    ]);
  });
});

describe("/um/resources", () => {
  it("lists all resources, by type, and one by type and id", async () => {
    const sim = newSim();
    const { dc, snap } = setup(sim);
    const all = await call(sim, "GET", "/um/resources?depth=1");
    expect(all.status).toBe(200);
    expect(all.body.items.map((r: Json) => [r.id, r.type])).toEqual([
      [dc.id, "datacenter"],
      [snap.id, "snapshot"],
    ]);
    expect(all.body.items[0].href).toMatch(new RegExp(`/um/resources/datacenter/${dc.id}$`));
    const dcs = await call(sim, "GET", "/um/resources/datacenter");
    expect(dcs.body.items.map((r: Json) => r.id)).toEqual([dc.id]);
    const one = await call(sim, "GET", `/um/resources/snapshot/${snap.id}`);
    expect(one.body).toMatchObject({ id: snap.id, properties: { name: "snap-1" } });
    expectIonosError(await call(sim, "GET", `/um/resources/datacenter/${snap.id}`), 404);
    expectIonosError(await call(sim, "GET", "/um/resources/spaceship"), 404, "spaceship");
    expectIonosError(await call(sim, "POST", "/um/resources", {}), 405);
  });
});

describe("S3 keys", () => {
  it("lists keys with their secret, turns one off and deletes one, each write 202 + Location", async () => {
    const sim = newSim();
    const u = sim.state.addUser({ firstname: "A", lastname: "B", email: "a@x.org" });
    const k1 = sim.access.addS3Key(u.id);
    const k2 = sim.access.addS3Key(u.id);
    const list = await call(sim, "GET", `/um/users/${u.id}/s3keys?depth=1`);
    expect(list.body.items.map((k: Json) => [k.id, k.type, k.properties.active])).toEqual([
      [k1.id, "s3key", true],
      [k2.id, "s3key", true],
    ]);
    expect(list.body.items[0].properties.secretKey).toBe(k1.secretKey);

    const off = await call(sim, "PUT", `/um/users/${u.id}/s3keys/${k1.id}`, {
      properties: { active: false },
    });
    expect(off.status).toBe(202);
    expect(off.headers.get("location")).toMatch(/\/requests\/[^/]+\/status$/);
    expect(sim.access.s3Key(u.id, k1.id).active).toBe(false);
    // The request shows the body as sent: never a secret.
    const requests = await call(sim, "GET", "/requests?depth=2");
    expect(JSON.stringify(requests.body)).not.toContain(k1.secretKey);

    expect((await call(sim, "DELETE", `/um/users/${u.id}/s3keys/${k2.id}`)).status).toBe(202);
    expectIonosError(await call(sim, "GET", `/um/users/${u.id}/s3keys/${k2.id}`), 404);
    expectIonosError(await call(sim, "DELETE", `/um/users/${u.id}/s3keys/${k2.id}`), 404);
    expectIonosError(
      await call(sim, "PUT", `/um/users/${u.id}/s3keys/${k1.id}`, { properties: {} }),
      422,
      "active",
    );
    expectIonosError(await call(sim, "GET", `/um/users/${crypto.randomUUID()}/s3keys`), 404);
    // A user's keys go with the user.
    sim.state.deleteUser(u.id);
    expectIonosError(await call(sim, "GET", `/um/users/${u.id}/s3keys`), 404);
  });

  it("counts share, resource and key calls against the rate limit", async () => {
    const sim = createIonosSimulator({ rateLimitPerSecond: 1, rateLimitBurst: 2, seed: 3 });
    const u = sim.state.addUser({ firstname: "A", lastname: "B", email: "a@x.org" });
    const statuses: number[] = [];
    for (const path of ["/um/resources", `/um/users/${u.id}/s3keys`, "/um/resources"]) {
      const res = await call(sim, "GET", path);
      statuses.push(res.status);
      expect(res.headers.get("x-ratelimit-limit")).toBeTruthy();
    }
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe("/__sim access controls", () => {
  it("adds resources and S3 keys as a person in the console would, answering no secret", async () => {
    const sim = newSim();
    const u = sim.state.addUser({ firstname: "A", lastname: "B", email: "a@x.org" });
    const made = await sim.app.request("/__sim/resources", {
      method: "POST",
      body: JSON.stringify({ type: "image", name: "img" }),
    });
    expect(made.status).toBe(201);
    const resource = await made.json();
    expect(sim.access.resource(resource.id)?.resourceType).toBe("image");
    const bad = await sim.app.request("/__sim/resources", {
      method: "POST",
      body: JSON.stringify({ type: "spaceship" }),
    });
    expect(bad.status).toBe(400);
    const key = await sim.app.request(`/__sim/users/${u.id}/s3keys?active=false`, {
      method: "POST",
    });
    expect(key.status).toBe(201);
    const body = await key.json();
    expect(body).toEqual({ id: sim.access.s3Keys(u.id)[0]!.id, active: false });
    const missing = await sim.app.request(`/__sim/users/${crypto.randomUUID()}/s3keys`, {
      method: "POST",
    });
    expect(missing.status).toBe(404);
  });
});
