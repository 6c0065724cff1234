/**
 * The request tracker: many writes in flight are confirmed by one `GET /requests` listing per
 * poll interval, counted in the simulator's call log over HTTP; status GETs are the fallback.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Hono } from "hono";
import { IonosClient } from "../../../src/targets/ionos/client.ts";
import { IonosNetworkError, IonosRequestFailedError } from "../../../src/targets/ionos/errors.ts";
import { formatRequestDate, RequestTracker } from "../../../src/targets/ionos/request_tracker.ts";
import { IONOS_PRIVILEGES, type IonosGroupProperties } from "../../../src/targets/ionos/types.ts";
import {
  type SimulatorOptions,
  startIonosSimulator,
} from "../../../src/targets/ionos/simulator/mod.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function simulator(options: SimulatorOptions) {
  const running = await startIonosSimulator({ rateLimitPerSecond: 0, seed: 9, ...options });
  closers.push(running.close);
  return running;
}

const group = (name: string): IonosGroupProperties => {
  const g = { name } as IonosGroupProperties;
  for (const p of IONOS_PRIVILEGES) g[p] = false;
  return g;
};

const INTERVAL = 200;

describe("RequestTracker with the simulator over HTTP", () => {
  it("confirms 50 writes in flight with one listing per poll interval, no status GETs", async () => {
    const { url, sim } = await simulator({ requestDelayMs: 1200 });
    const ionos = new IonosClient({
      baseUrl: url,
      auth: { token: "sim-token" },
      requestPollIntervalMs: INTERVAL,
      requestPollMaxIntervalMs: INTERVAL,
    });
    const started = performance.now();
    const groups = await Promise.all(
      Array.from({ length: 50 }, (_, i) => ionos.createGroup(group(`g${i}`))),
    );
    const elapsed = performance.now() - started;

    expect(new Set(groups.map((g) => g.id)).size).toBe(50);
    for (const g of groups) expect(sim.state.group(g.id)).toBeDefined();
    const listings = sim.callLog.filter((c) => c.path.endsWith("/requests"));
    const statusGets = sim.callLog.filter((c) => c.path.endsWith("/status"));
    expect(sim.callLog.filter((c) => c.method === "POST")).toHaveLength(50);
    // Polling 50 requests one by one would be 50 calls per interval; here each interval costs
    // one call. (A first poll may find a single request registered and use its status GET.)
    expect(statusGets.length).toBeLessThanOrEqual(1);
    expect(listings.length).toBeGreaterThanOrEqual(1);
    expect(listings.length + statusGets.length).toBeLessThanOrEqual(
      Math.ceil(elapsed / INTERVAL) + 1,
    );
    expect(listings[0]!.query).toMatchObject({ depth: "2", limit: "1000", offset: "0" });
    expect(listings[0]!.query["filter.createdAfter"]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
    );
  });

  it("a request the listing shows FAILED fails its write; the others succeed", async () => {
    const { url, sim } = await simulator({ requestDelayMs: 800 });
    const ionos = new IonosClient({
      baseUrl: url,
      auth: { token: "sim-token" },
      requestPollIntervalMs: 50,
      requestPollMaxIntervalMs: 50,
      failedRequestAttempts: 1, // the FAILED error itself, not the client's own retry
    });
    const ok = Array.from({ length: 3 }, (_, i) => ionos.createGroup(group(`ok${i}`)));
    await new Promise((r) => setTimeout(r, 30)); // their POSTs are in
    sim.setTiming({ duration: { kind: "fixed", ms: 200 }, failRate: 1 });
    const err = await ionos.createGroup(group("bad")).catch((e) => e);
    await Promise.all(ok);
    expect(err).toBeInstanceOf(IonosRequestFailedError);
    expect(sim.state.groups().map((g) => g.properties.name).sort()).toEqual(["ok0", "ok1", "ok2"]);
    // The others were in flight all along, so the listing, not a status GET, told of it.
    expect(sim.callLog.filter((c) => c.path.includes(err.requestId))).toHaveLength(0);
    expect(sim.callLog.some((c) => c.path.endsWith("/requests"))).toBe(true);
  });

  it("sends a write again when its request ended FAILED, and gives up after the attempts", async () => {
    // Seed 4: the first request's dice fail at failRate 0.5, the second's do not.
    const { url, sim } = await simulator({
      seed: 4,
      requestTiming: { duration: { kind: "fixed", ms: 30 }, failRate: 0.5 },
    });
    const retries: string[] = [];
    const ionos = new IonosClient({
      baseUrl: url,
      auth: { token: "sim-token" },
      requestPollIntervalMs: 20,
      onRetry: (info) => retries.push(info.error.name),
    });
    const g = await ionos.createGroup(group("again"));
    expect(sim.state.groups().map((x) => x.id)).toEqual([g.id]); // the FAILED one was undone
    expect(sim.callLog.filter((c) => c.method === "POST")).toHaveLength(2);
    expect(retries).toEqual(["IonosRequestFailedError"]);

    sim.setTiming({ duration: { kind: "fixed", ms: 30 }, failRate: 1 });
    const err = await ionos.createGroup(group("never")).catch((e) => e);
    expect(err).toBeInstanceOf(IonosRequestFailedError);
    expect(sim.callLog.filter((c) => c.method === "POST")).toHaveLength(2 + 3);
  });

  it("uses a request's own status GET when it is the only one in flight", async () => {
    const { url, sim } = await simulator({ requestDelayMs: 100 });
    const ionos = new IonosClient({
      baseUrl: url,
      auth: { token: "sim-token" },
      requestPollIntervalMs: 50,
    });
    await ionos.createGroup(group("solo"));
    expect(sim.callLog.filter((c) => c.path.endsWith("/requests"))).toHaveLength(0);
    expect(sim.callLog.filter((c) => c.path.endsWith("/status")).length).toBeGreaterThan(0);
  });
});

describe("RequestTracker fallbacks", () => {
  /** A contract whose listing shows nothing (or is missing) and whose status says DONE. */
  function app(listing: "empty" | "missing") {
    const calls: string[] = [];
    const hono = new Hono();
    if (listing === "empty") {
      hono.get("/cloudapi/v6/requests", (c) => (calls.push("list"), c.json({ items: [] })));
    }
    hono.get("/cloudapi/v6/requests/:id/status", (c) => {
      calls.push(`status ${c.req.param("id")}`);
      return c.json({ id: c.req.param("id"), metadata: { status: "DONE" } });
    });
    const ionos = new IonosClient({
      baseUrl: "http://ionos.test/cloudapi/v6",
      auth: { token: "t0ken-secret" },
      requestPollIntervalMs: 5,
      requestPollMaxIntervalMs: 5,
      fetch: (input, init) => Promise.resolve(hono.fetch(new Request(input, init))),
    });
    return { ionos, calls };
  }

  it("polls a request's status after two listings in a row did not show it", async () => {
    const { ionos, calls } = app("empty");
    await Promise.all(["r1", "r2", "r3"].map((id) => ionos.waitForRequest(id)));
    expect(calls.slice(0, 2)).toEqual(["list", "list"]);
    expect(calls.slice(2).sort()).toEqual(["status r1", "status r2", "status r3"]);
  });

  it("falls back to status GETs for good when the contract has no listing (404)", async () => {
    const { ionos, calls } = app("missing");
    await Promise.all(["a", "b"].map((id) => ionos.waitForRequest(id)));
    await Promise.all(["c", "d"].map((id) => ionos.waitForRequest(id)));
    expect(calls.sort()).toEqual(["status a", "status b", "status c", "status d"]);
  });
});

describe("RequestTracker with fake time", () => {
  it("times out a request that never finishes, with its last state", async () => {
    let now = 0;
    const tracker = new RequestTracker({
      source: {
        listRequests: () => Promise.resolve([]),
        getRequestStatus: (id) =>
          Promise.resolve({
            id,
            type: "request-status",
            href: "",
            metadata: { status: "RUNNING" },
          }),
      },
      timeoutMs: 5000,
      now: () => now,
      sleep: (ms) => {
        now += ms;
        return Promise.resolve();
      },
    });
    const err = await tracker.wait("slow").catch((e) => e);
    expect(err.name).toBe("IonosRequestTimeoutError");
    expect(err.lastStatus).toBe("RUNNING");
    expect(now).toBe(5000);
    expect(tracker.size).toBe(0);
  });

  it("spaces polls by the least gap however many requests are in flight", async () => {
    let now = 0;
    const finishAt = new Map<string, number>();
    const polls: { kind: string; at: number }[] = [];
    const status = (id: string) => ({
      id,
      type: "request-status" as const,
      href: "",
      metadata: { status: now >= finishAt.get(id)! ? "DONE" as const : "RUNNING" as const },
    });
    const tracker = new RequestTracker({
      source: {
        listRequests: () =>
          Promise.resolve([...finishAt.keys()].map((id) => ({
            id,
            metadata: { requestStatus: status(id) },
          }))),
        getRequestStatus: (id) => Promise.resolve(status(id)),
      },
      minPollGapMs: 2000, // e.g. 5% of a 10/s budget
      onPoll: (kind) => polls.push({ kind, at: now }),
      now: () => now,
      sleep: async (ms) => {
        await Promise.resolve(); // let registrations made meanwhile run first
        now += ms;
      },
    });
    const waits = Array.from({ length: 30 }, (_, i) => {
      finishAt.set(`r${i}`, 3000 + i * 200);
      return tracker.wait(`r${i}`);
    });
    await Promise.all(waits);
    // 30 requests finishing over 3 to 8.8 s: a poll every 2 s at most, all listings.
    expect(polls.every((p) => p.kind === "list")).toBe(true);
    for (let i = 1; i < polls.length; i++) {
      expect(polls[i]!.at - polls[i - 1]!.at).toBeGreaterThanOrEqual(2000);
    }
    expect(polls.length).toBeLessThanOrEqual(Math.ceil(now / 2000) + 1);
    expect(now).toBeLessThan(8800 + 2000 + 1);
  });

  it("backs off after a failed listing instead of asking again at once", async () => {
    let now = 0;
    const listings: number[] = [];
    const tracker = new RequestTracker({
      source: {
        listRequests: () => {
          listings.push(now);
          return Promise.reject(new IonosNetworkError("GET", "/requests", "connection reset"));
        },
        getRequestStatus: (id) =>
          Promise.resolve({ id, type: "request-status", href: "", metadata: { status: "DONE" } }),
      },
      timeoutMs: 10_000,
      now: () => now,
      sleep: (ms) => {
        now += ms;
        return Promise.resolve();
      },
    });
    const errs = await Promise.all(["a", "b"].map((id) => tracker.wait(id).catch((e) => e)));
    expect(errs.every((e) => e.name === "IonosRequestTimeoutError")).toBe(true);
    // 250 ms, then growing by half up to 2 s: about a dozen tries in 10 s, not thousands.
    expect(listings.length).toBeGreaterThan(3);
    expect(listings.length).toBeLessThan(15);
  });

  it("formats filter.createdAfter as yyyy-MM-dd HH:mm:ss in UTC", () => {
    expect(formatRequestDate(Date.UTC(2026, 10, 30, 4, 5, 6, 789))).toBe("2026-11-30 04:05:06");
  });
});
