import { describe, expect, it } from "vitest";
import {
  createIonosSimulator,
  type IonosSimulator,
  startIonosSimulator,
} from "../../../../src/targets/ionos/simulator/mod.ts";

const AUTH = { Authorization: "Bearer sim-token" };
const user = (email: string) => ({
  properties: { firstname: "Ann", lastname: "Lee", email, password: "s3cret-password" },
});

function post(sim: IonosSimulator, path: string, body: unknown): Promise<Response> {
  return Promise.resolve(sim.app.request(`/cloudapi/v6${path}`, {
    method: "POST",
    headers: { ...AUTH, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  }));
}

function get(sim: IonosSimulator, path: string): Promise<Response> {
  return Promise.resolve(sim.app.request(`/cloudapi/v6${path}`, { headers: AUTH }));
}

describe("rate limit", () => {
  it("answers 429 with Retry-After past the burst, and X-RateLimit-* on every answer", async () => {
    const sim = createIonosSimulator({ rateLimitPerSecond: 5, seed: 1 });
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 7; i++) {
      const res = await get(sim, "/um/users");
      statuses.push(res.status);
      expect(res.headers.get("X-RateLimit-Limit")).toBe("300");
      expect(res.headers.get("X-RateLimit-Burst")).toBe("5");
      expect(res.headers.get("X-RateLimit-Remaining")).toMatch(/^\d+$/);
      if (res.status === 429) refused = res;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(Number(refused!.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    const body = await refused!.json();
    expect(body).toMatchObject({ httpStatus: 429, messages: [{ errorCode: "429" }] });
    const stats = sim.stats();
    expect(stats).toMatchObject({ total: 7, rateLimited: 2, byStatus: { 200: 5, 429: 2 } });
    expect(stats.maxPerSecond).toBe(7);
    expect(stats.maxAcceptedPerSecond).toBe(5);
    expect(sim.callLog.filter((c) => c.rateLimited)).toHaveLength(2);

    await new Promise((r) => setTimeout(r, 250)); // 5/s refills one token in 200 ms
    expect((await get(sim, "/um/users")).status).toBe(200);
  });

  it("is off for rateLimitPerSecond 0, without X-RateLimit headers", async () => {
    const off = createIonosSimulator({ rateLimitPerSecond: 0 });
    for (let i = 0; i < 120; i++) expect((await get(off, "/um/groups")).status).toBe(200);
    expect((await get(off, "/um/groups")).headers.get("X-RateLimit-Limit")).toBeNull();
  });
});

describe("faults", () => {
  const opts = { rateLimitPerSecond: 0, requestDelayMs: 0, seed: 7 };

  it("a 5xx fault does not apply the write", async () => {
    const sim = createIonosSimulator(opts);
    sim.setFaults({ error5xxRate: 1, methods: ["POST"], status5xx: 503 });
    const res = await post(sim, "/um/users", user("a@example.org"));
    expect(res.status).toBe(503);
    expect(res.headers.get("location")).toBeNull();
    expect((await res.json()).httpStatus).toBe(503);
    expect(sim.state.users()).toEqual([]);
    expect((await get(sim, "/um/users")).status).toBe(200); // GET not matched
    expect(sim.callLog[0]).toMatchObject({ fault: "error5xx", status: 503 });
    expect(sim.stats().faults.error5xx).toBe(1);
  });

  it("a lost answer applies the write but answers 500 without Location", async () => {
    const sim = createIonosSimulator(opts);
    sim.setFaults({ lostAnswerRate: 1, writesOnly: true });
    const res = await post(sim, "/um/users", user("b@example.org"));
    expect(res.status).toBe(500);
    expect(res.headers.get("location")).toBeNull();
    expect(sim.state.userByEmail("b@example.org")).toBeDefined();
    expect(sim.callLog[0]).toMatchObject({ fault: "lostAnswer", status: 500 });
    expect(sim.callLog[0]!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    // A retry now meets the duplicate, as it would on IONOS.
    sim.setFaults({});
    expect((await post(sim, "/um/users", user("b@example.org"))).status).toBe(422);
  });

  it("an injected 429 carries Retry-After: 1; pathPrefix narrows faults", async () => {
    const sim = createIonosSimulator(opts);
    sim.setFaults({ rate429: 1, pathPrefix: "/um/groups" });
    const res = await get(sim, "/um/groups");
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBe("1");
    expect((await get(sim, "/um/users")).status).toBe(200);
  });

  it("latency faults delay matching calls", async () => {
    const sim = createIonosSimulator({ ...opts, faults: { latencyMs: 60 } });
    const t0 = performance.now();
    await get(sim, "/um/users");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    expect(sim.callLog[0]!.durationMs).toBeGreaterThanOrEqual(55);
  });

  it("the same seed gives the same faults and ids", async () => {
    const run = async () => {
      const sim = createIonosSimulator({ ...opts, seed: 42, faults: { error5xxRate: 0.5 } });
      const out: string[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await post(sim, "/um/groups", { properties: { name: `g${i}` } });
        out.push(res.status === 202 ? (await res.json()).id : String(res.status));
      }
      return out;
    };
    const a = await run();
    expect(await run()).toEqual(a);
    expect(a.filter((x) => x === "500").length).toBeGreaterThan(0);
    expect(a.filter((x) => x !== "500").length).toBeGreaterThan(0);
  });

  it("setFaults refuses invalid values", () => {
    const sim = createIonosSimulator(opts);
    expect(() => sim.setFaults({ error5xxRate: 2 })).toThrow(RangeError);
    expect(() => sim.setFaults({ status5xx: 404 })).toThrow(RangeError);
    expect(() => sim.setFaults({ errorRate: 1 } as never)).toThrow(/unknown key 'errorRate'/);
  });
});

describe("/__sim admin routes", () => {
  it("sets faults, shows state, calls and stats, and resets", async () => {
    const sim = createIonosSimulator({ rateLimitPerSecond: 0, requestDelayMs: 0 });
    const bad = await sim.app.request("/__sim/faults", {
      method: "POST",
      body: JSON.stringify({ error5xxRate: "often" }),
    });
    expect(bad.status).toBe(400);
    const set = await sim.app.request("/__sim/faults", {
      method: "POST",
      body: JSON.stringify({ error5xxRate: 1, methods: ["delete"] }),
    });
    expect(await set.json()).toEqual({ error5xxRate: 1, methods: ["DELETE"] });
    expect(sim.faults.methods).toEqual(["DELETE"]);

    const created = await (await post(sim, "/um/users", user("c@example.org"))).json();
    const g = sim.state.addGroup({ name: "g" });
    sim.state.addMember(g.id, created.id);
    const state = await (await sim.app.request("/__sim/state")).json();
    expect(state.users[0]).toMatchObject({ id: created.id, groups: [g.id] });
    expect(state.groups[0]).toMatchObject({ id: g.id, members: [created.id] });

    const calls = await (await sim.app.request("/__sim/calls")).json();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: "POST", path: "/cloudapi/v6/um/users", status: 202 });
    const log = JSON.stringify(calls);
    expect(log).not.toContain("sim-token");
    expect(log).not.toContain("s3cret-password");
    expect(await (await sim.app.request("/__sim/calls?since=1")).json()).toEqual([]);

    const stats = await (await sim.app.request("/__sim/stats")).json();
    expect(stats).toMatchObject({ total: 1, byStatus: { 202: 1 } });

    expect((await sim.app.request("/__sim/reset", { method: "POST" })).status).toBe(200);
    expect(sim.state.users()).toEqual([]);
    expect(sim.callLog).toHaveLength(0);
    expect(sim.faults).toEqual({});
    expect(sim.stats().total).toBe(0);
  });
});

describe("startIonosSimulator()", () => {
  it("serves the API over real HTTP on a free port", async () => {
    const { url, port, sim, close } = await startIonosSimulator({ requestDelayMs: 30 });
    try {
      expect(url).toBe(`http://127.0.0.1:${port}/cloudapi/v6`);
      const res = await fetch(`${url}/um/users`, {
        method: "POST",
        headers: { ...AUTH, "Content-Type": "application/json" },
        body: JSON.stringify(user("http@example.org")),
      });
      expect(res.status).toBe(202);
      const created = await res.json();
      const location = res.headers.get("location")!;
      expect(location.startsWith(`${url}/requests/`)).toBe(true);

      let status = "";
      for (let i = 0; i < 50 && status !== "DONE"; i++) {
        await new Promise((r) => setTimeout(r, 10));
        status = (await (await fetch(location, { headers: AUTH })).json()).metadata.status;
      }
      expect(status).toBe("DONE");

      const basic = { Authorization: `Basic ${btoa("sim@example.com:sim-password")}` };
      const found = await fetch(`${url}/um/users?depth=1&filter.email=HTTP%40example.org`, {
        headers: basic,
      });
      const list = await found.json();
      expect(list.items[0]).toMatchObject({
        id: created.id,
        href: `${url}/um/users/${created.id}`,
      });
      expect(found.headers.get("X-RateLimit-Limit")).toBe("3000");
      expect(sim.stats().byStatus[202]).toBe(1);

      const stats = await (await fetch(`${new URL(url).origin}/__sim/stats`)).json();
      expect(stats.total).toBe(sim.stats().total);
    } finally {
      await close();
    }
  });
});
