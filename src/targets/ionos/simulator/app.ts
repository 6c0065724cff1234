/**
 * The IONOS Cloud API v6 User Management simulator as a Hono app, for tests, benchmarks and
 * dev mode. API calls pass one gateway (rate limit, auth, faults, latency, call log) before
 * the UM routes; `/__sim/*` admin routes skip it.
 */
import { Hono } from "hono";
import { authScheme, isAuthorized } from "./auth.ts";
import { type CallRecord, CallRecorder, type SimulatorStats } from "./calls.ts";
import { IonosApiError, ionosErrorResponse } from "./errors.ts";
import {
  type FaultKind,
  faultMatches,
  type Faults,
  rollFault,
  validateFaults,
} from "../../simulator/faults.ts";
import { type RequestTiming, resolveTiming, type TimingProfile } from "./duration.ts";
import { resolveOptions, type SimulatorOptions } from "./options.ts";
import { createRandom, type Random } from "../../simulator/random.ts";
import { TokenBucket } from "./rate_limit.ts";
import { RequestTracker } from "./requests.ts";
import { registerRequestRoutes } from "./requests_routes.ts";
import { SimState } from "./state.ts";
import { SimAccess } from "./access_state.ts";
import { registerAccessAdminRoutes, registerAccessRoutes } from "./access_routes.ts";
import { API_BASE, registerUmRoutes } from "./um_routes.ts";

/** A running simulator: the app plus handles for tests. */
export interface IonosSimulator {
  /** The Hono app; call `app.request(path, init)` or serve `app.fetch`. */
  readonly app: Hono;
  /** Users, groups, memberships; change them directly to act like a human in the console. */
  readonly state: SimState;
  /** Shareable resources, group shares and S3 keys; change them directly as a human would. */
  readonly access: SimAccess;
  /** Every API call, oldest first (no bodies, no Authorization values). */
  readonly callLog: readonly CallRecord[];
  /** The faults in force (a copy). */
  readonly faults: Faults;
  /** Seed in use (pass it back to replay a run). */
  readonly seed: number;
  /**
   * Replaces the faults in force; `{}` switches them off.
   * @throws {TypeError | RangeError} for invalid faults.
   */
  setFaults(faults: Faults): void;
  /** Request duration and failure share in force for new requests (a copy). */
  readonly timing: RequestTiming;
  /**
   * Sets the timing of requests made from now on (a profile name or a timing).
   * @throws {TypeError | RangeError} for an invalid timing.
   */
  setTiming(timing: TimingProfile | RequestTiming): void;
  /** Counters since start or the last reset. */
  stats(): SimulatorStats;
  /** Empties state, requests, log, counters and faults, refills the bucket, re-seeds; keeps timing. */
  reset(): void;
}

/**
 * Creates an in-memory IONOS UM simulator.
 *
 * @param options See {@linkcode SimulatorOptions}; every field has a default.
 * @throws {RangeError} for invalid options.
 * @example
 * ```ts
 * const sim = createIonosSimulator({ rateLimitPerSecond: 0, requestDelayMs: 0 });
 * const res = await sim.app.request("/cloudapi/v6/um/users", {
 *   headers: { Authorization: "Bearer sim-token" },
 * });
 * ```
 */
export function createIonosSimulator(options: SimulatorOptions = {}): IonosSimulator {
  const opts = resolveOptions(options);
  let faults = validateFaults(opts.faults);
  // Separate streams: how many ids a test creates must not shift the fault dice.
  let dice = createRandom(opts.seed);
  const idSeed = opts.seed ^ 0x9e3779b9;
  let ids = createRandom(idSeed);
  const timingSeed = opts.seed ^ 0x85ebca6b;
  let timingDice = createRandom(timingSeed);
  // Delegates so reset() can re-seed ids without rebuilding state and tracker.
  const idSource: Random = {
    next: () => ids.next(),
    hex: (n: number) => ids.hex(n),
    uuid: () => ids.uuid(),
  };
  const timingSource: Random = {
    next: () => timingDice.next(),
    hex: (n: number) => timingDice.hex(n),
    uuid: () => timingDice.uuid(),
  };
  const actor = opts.username || "sim@example.com";
  const state = new SimState(idSource, actor);
  const access = new SimAccess(state, idSource);
  const requests = new RequestTracker(idSource, timingSource, opts.requestTiming, actor);
  const bucket = new TokenBucket(opts.rateLimitPerSecond, opts.rateLimitBurst);
  const recorder = new CallRecorder(opts.maxCallLog);

  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof IonosApiError) {
      return ionosErrorResponse(err.status, err.message, err.headers);
    }
    console.error("simulator: unexpected error", err);
    return ionosErrorResponse(500, `Internal simulator error on ${c.req.method} ${c.req.path}`);
  });
  app.notFound((c) => ionosErrorResponse(404, `No such resource: ${c.req.path}`));

  app.use(`${API_BASE}/*`, async function gateway(c, next) {
    const started = performance.now();
    const url = new URL(c.req.url);
    const method = c.req.method;
    const authorization = c.req.header("authorization");
    const call: CallRecord = {
      time: Date.now(),
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      durationMs: 0,
      auth: authScheme(authorization),
    };
    // Multi-contract accounts select one with this header; one contract here, so just note it.
    const contract = c.req.header("x-contract-number");
    if (contract) call.contractNumber = contract;

    const taken = bucket.take();
    recorder.arrive(call.time, taken.ok);
    let answer: Response | undefined;
    if (!taken.ok) {
      call.rateLimited = true;
      answer = ionosErrorResponse(429, "Rate limit exceeded, retry later", {
        "Retry-After": String(taken.retryAfterSeconds),
      });
    } else if (!isAuthorized(authorization, opts)) {
      answer = ionosErrorResponse(401, "Authentication failed: missing or wrong credentials", {
        "WWW-Authenticate": 'Basic realm="IONOS Cloud API (simulator)"',
      });
    } else {
      const apiPath = url.pathname.slice(API_BASE.length);
      const matches = faultMatches(faults, method, apiPath);
      const fault: FaultKind | undefined = matches ? rollFault(faults, method, dice) : undefined;
      const delay = opts.latencyMs + (matches ? faults.latencyMs ?? 0 : 0);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      if (fault) call.fault = fault;
      const status5xx = faults.status5xx ?? 500;
      if (fault === "rate429") {
        answer = ionosErrorResponse(429, "Rate limit exceeded (injected)", { "Retry-After": "1" });
      } else if (fault === "error5xx") {
        answer = ionosErrorResponse(status5xx, "Internal server error (injected, not applied)");
      } else {
        requests.settle(); // FAILED writes are undone before anyone reads
        await next();
        const location = c.res.headers.get("location");
        if (location) call.requestId = location.split("/").at(-2);
        // The write happened; only the answer is lost on its way back.
        if (fault === "lostAnswer") {
          answer = ionosErrorResponse(status5xx, "Internal server error (injected, write applied)");
        }
      }
    }
    if (answer) {
      c.res = undefined; // drop headers of the real answer (e.g. Location of a lost answer)
      c.res = answer;
    }
    for (const [k, v] of Object.entries(bucket.headers())) c.res.headers.set(k, v);
    call.status = c.res.status;
    call.durationMs = Math.round((performance.now() - started) * 100) / 100;
    recorder.record(call);
  });

  registerUmRoutes(app, { state, requests, requireCreateDone: opts.requireCreateDone });
  registerAccessRoutes(app, { state, access, requests, requireCreateDone: opts.requireCreateDone });
  registerRequestRoutes(app, requests);

  const sim: IonosSimulator = {
    app,
    state,
    access,
    get callLog() {
      return recorder.log;
    },
    get faults() {
      return structuredClone(faults);
    },
    seed: opts.seed,
    setFaults(f) {
      faults = validateFaults(f);
    },
    get timing() {
      return structuredClone(requests.timing);
    },
    setTiming(t) {
      requests.timing = resolveTiming(t);
    },
    stats: () => recorder.stats(),
    reset() {
      state.clear();
      access.clear();
      requests.clear();
      recorder.clear();
      bucket.reset();
      faults = {};
      dice = createRandom(opts.seed);
      ids = createRandom(idSeed);
      timingDice = createRandom(timingSeed);
    },
  };
  registerAdminRoutes(app, sim);
  registerAccessAdminRoutes(app, access);
  return sim;
}

/** `/__sim/*`: unauthenticated test and benchmark controls, outside the API base path. */
function registerAdminRoutes(app: Hono, sim: IonosSimulator): void {
  app.get("/__sim/faults", (c) => c.json(sim.faults));
  app.post("/__sim/faults", async (c) => {
    try {
      sim.setFaults(await c.req.json());
    } catch (e) {
      return c.json({ error: e instanceof Error ? e.message : String(e) }, 400);
    }
    return c.json(sim.faults);
  });
  app.get("/__sim/timing", (c) => c.json(sim.timing));
  // Body: a profile name as JSON string ("realistic") or {duration, failRate}.
  app.post("/__sim/timing", async (c) => {
    try {
      sim.setTiming(await c.req.json());
    } catch (e) {
      return c.json({ error: e instanceof Error ? e.message : String(e) }, 400);
    }
    return c.json(sim.timing);
  });
  app.get("/__sim/state", (c) =>
    c.json({
      users: sim.state.users().map((u) => ({ ...u, groups: sim.state.userGroups(u.id) })),
      groups: sim.state.groups().map((g) => ({ ...g, members: sim.state.members(g.id) })),
    }));
  // `?since=<n>` returns entries from index n, so a poller need not fetch the whole log.
  app.get("/__sim/calls", (c) => c.json(sim.callLog.slice(Number(c.req.query("since") ?? 0) || 0)));
  app.get("/__sim/stats", (c) => c.json(sim.stats()));
  app.post("/__sim/reset", (c) => {
    sim.reset();
    return c.json({ ok: true });
  });
}
