import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createIonosSimulator,
  type IonosSimulator,
} from "../../../../src/targets/ionos/simulator/mod.ts";
import {
  resolveTiming,
  sampleDuration,
  TIMING_PROFILES,
} from "../../../../src/targets/ionos/simulator/duration.ts";
import { createRandom } from "../../../../src/targets/simulator/random.ts";

const AUTH = { Authorization: "Bearer sim-token" };
// deno-lint-ignore no-explicit-any
type Json = any;

async function call(sim: IonosSimulator, method: string, path: string, body?: unknown) {
  const res = await sim.app.request(`/cloudapi/v6${path}`, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Json };
}

const props = (email: string) => ({
  properties: { firstname: "A", lastname: "B", email, password: "s3cret-password" },
});
const statusOf = async (sim: IonosSimulator, location: string) =>
  (await call(sim, "GET", new URL(location).pathname.slice("/cloudapi/v6".length))).body
    .metadata.status;

afterEach(() => {
  vi.useRealTimers();
});

describe("sampleDuration()", () => {
  it("draws fixed, uniform and capped log-normal durations", () => {
    const rand = createRandom(3);
    expect(sampleDuration({ kind: "fixed", ms: 20 }, rand)).toBe(20);
    for (let i = 0; i < 200; i++) {
      const u = sampleDuration({ kind: "uniform", minMs: 100, maxMs: 300 }, rand);
      expect(u).toBeGreaterThanOrEqual(100);
      expect(u).toBeLessThan(300);
    }
    const d = TIMING_PROFILES.realistic.duration;
    const xs = Array.from({ length: 4000 }, () => sampleDuration(d, rand)).sort((a, b) => a - b);
    expect(xs[2000]).toBeGreaterThan(2700); // median about 3 s
    expect(xs[2000]).toBeLessThan(3300);
    expect(xs[3960]).toBeGreaterThan(9000); // p99: a long tail ...
    expect(xs.at(-1)).toBeLessThanOrEqual(15_000); // ... capped at 15 s
  });
});

describe("resolveTiming()", () => {
  it.each([
    ["an unknown profile", "slow", TypeError],
    ["an unknown kind", { duration: { kind: "pareto" } }, TypeError],
    ["a negative duration", { duration: { kind: "fixed", ms: -1 } }, RangeError],
    ["min above max", { duration: { kind: "uniform", minMs: 5, maxMs: 1 } }, RangeError],
    ["a failRate above 1", { duration: { kind: "fixed", ms: 1 }, failRate: 2 }, RangeError],
  ])("refuses %s", (_name, input, error) => {
    expect(() => resolveTiming(input)).toThrow(error);
  });
});

describe("request timing in the simulator", () => {
  it("keeps the fast 20 ms default that existing tests rely on", () => {
    expect(createIonosSimulator().timing).toEqual(TIMING_PROFILES.fast);
    expect(createIonosSimulator({ requestDelayMs: 5 }).timing.duration).toEqual({
      kind: "fixed",
      ms: 5,
    });
  });

  it("takes a profile by option and a timing at run time over /__sim/timing", async () => {
    const sim = createIonosSimulator({ requestTiming: "realistic", rateLimitPerSecond: 0 });
    expect(sim.timing).toEqual(TIMING_PROFILES.realistic);
    const set = await sim.app.request("/__sim/timing", {
      method: "POST",
      body: JSON.stringify({ duration: { kind: "uniform", minMs: 1, maxMs: 2 }, failRate: 0.5 }),
    });
    expect(set.status).toBe(200);
    expect(await (await sim.app.request("/__sim/timing")).json()).toEqual({
      duration: { kind: "uniform", minMs: 1, maxMs: 2 },
      failRate: 0.5,
    });
    const bad = await sim.app.request("/__sim/timing", { method: "POST", body: '"glacial"' });
    expect(bad.status).toBe(400);
    const byName = await sim.app.request("/__sim/timing", { method: "POST", body: '"fast"' });
    expect(await byName.json()).toEqual(TIMING_PROFILES.fast);
  });

  it("each request takes its own drawn duration: QUEUED, RUNNING, then DONE", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.UTC(2026, 0, 1) });
    const sim = createIonosSimulator({
      rateLimitPerSecond: 0,
      seed: 5,
      requestTiming: { duration: { kind: "uniform", minMs: 1000, maxMs: 9000 }, failRate: 0 },
    });
    const locations: string[] = [];
    for (let i = 0; i < 20; i++) {
      locations.push(
        (await call(sim, "POST", "/um/users", props(`u${i}@x.org`))).headers
          .get("location")!,
      );
    }
    expect(await statusOf(sim, locations[0]!)).toBe("QUEUED");
    const doneAt: number[] = [];
    for (let t = 0; t <= 9000; t += 250) {
      vi.setSystemTime(Date.UTC(2026, 0, 1) + t);
      for (const [i, loc] of locations.entries()) {
        if (doneAt[i] === undefined && await statusOf(sim, loc) === "DONE") doneAt[i] = t;
      }
    }
    expect(doneAt.every((t) => t >= 1000 && t <= 9000)).toBe(true);
    expect(new Set(doneAt).size).toBeGreaterThan(5); // spread out, not one fixed delay
  });

  it("a FAILED request's write is undone: a created user disappears", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.UTC(2026, 0, 1) });
    const sim = createIonosSimulator({
      rateLimitPerSecond: 0,
      requestTiming: { duration: { kind: "fixed", ms: 1000 }, failRate: 1 },
    });
    const res = await call(sim, "POST", "/um/users", props("gone@x.org"));
    expect(res.status).toBe(202);
    expect(sim.state.users()).toHaveLength(1);
    vi.setSystemTime(Date.UTC(2026, 0, 1) + 400);
    expect(await statusOf(sim, res.headers.get("location")!)).toBe("QUEUED");
    vi.setSystemTime(Date.UTC(2026, 0, 1) + 1000);
    const status = await call(sim, "GET", new URL(res.headers.get("location")!).pathname.slice(12));
    expect(status.body.metadata).toMatchObject({ status: "FAILED" });
    expect(status.body.metadata.message).toMatch(/failed/i);
    expect((await call(sim, "GET", "/um/users")).body.items).toEqual([]);
  });

  it("FAILED member adds and user deletes are undone too", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.UTC(2026, 0, 1) });
    const sim = createIonosSimulator({ rateLimitPerSecond: 0, requestDelayMs: 0 });
    const u = sim.state.addUser({ firstname: "A", lastname: "B", email: "a@x.org" });
    const g = sim.state.addGroup({ name: "g" });
    sim.state.addMember(g.id, u.id);
    const g2 = sim.state.addGroup({ name: "g2" });
    sim.setTiming({ duration: { kind: "fixed", ms: 10 }, failRate: 1 });
    expect((await call(sim, "POST", `/um/groups/${g2.id}/users`, { id: u.id })).status).toBe(202);
    expect((await call(sim, "DELETE", `/um/users/${u.id}`)).status).toBe(202);
    expect(sim.state.users()).toEqual([]);
    vi.setSystemTime(Date.UTC(2026, 0, 1) + 10);
    await call(sim, "GET", "/um/users");
    expect(sim.state.user(u.id)?.properties.email).toBe("a@x.org");
    expect(sim.state.members(g.id)).toEqual([u.id]);
    expect(sim.state.members(g2.id)).toEqual([]);
  });
});
