/**
 * Runs one model-test case end to end: a fresh Redis, simulator and service (test harness), the
 * pre-existing IONOS accounts seeded, the history delivered as planned with IONOS faults on, then
 * faults off, the queue drained, and the invariants checked on what IONOS and Redis hold.
 */
import type { Redis } from "ioredis";
import { globMatch, type Mapping, parseMapping } from "../../src/config/mapping.ts";
import type { Faults } from "../../src/targets/ionos/simulator/mod.ts";
import { IONOS_PRIVILEGES } from "../../src/targets/ionos/types.ts";
import type { IonosSimulator } from "../../src/targets/ionos/simulator/mod.ts";
import { type Harness, startHarness } from "../_support/harness.ts";
import type { TargetName } from "../../src/targets/target.ts";
import {
  startTargetSimulator,
  targetMapping,
  type TargetSimulator,
  type ViewUser,
} from "../_support/targets.ts";
import {
  generateCase,
  historySpan,
  IN_SCOPE,
  type ModelCase,
  type Op,
  planDelivery,
  renderHistory,
  RESOURCES,
} from "./generator.ts";
import {
  checkInvariants,
  type CheckOptions,
  type Observed,
  type SimGroup,
  type SimUser,
  type Violation,
} from "./invariants.ts";
import { compareWithIdp, computeWanted } from "./oracle.ts";
import { type AccessSnapshot, checkAccessInvariants, shareFlags } from "./access_invariants.ts";
import { checkTargetInvariants } from "./target_invariants.ts";

export interface RunOptions {
  /** Run only these operations of the case (a subset of `case.ops`, for minimising). */
  ops?: readonly Op[];
  /** Progress lines (what is being done). */
  log?: (line: string) => void;
  /** See {@linkcode CheckOptions}. @default false */
  strictConflicts?: CheckOptions["strictConflicts"];
  /** Drain timeout (ms). @default 60_000 */
  drainTimeoutMs?: number;
  /**
   * The target checked beside IONOS (which always runs): its simulator gets the same
   * pre-existing accounts and faults, and `target_invariants.ts` is checked on it.
   * @default "ionos" (IONOS alone)
   */
  target?: TargetName;
}

export interface SeedResult {
  seed: number;
  violations: Violation[];
  ms: number;
  /** Events in the history, requests posted, IONOS calls, injected faults, failed jobs. */
  stats: {
    events: number;
    requests: number;
    ionosCalls: number;
    faults: Record<string, number>;
    failedJobs: number;
    conflicts: number;
  };
  /** The service's log lines, for a failing seed. */
  logs: string[];
  /** The history as sent (time order), for a failing seed. */
  history: Record<string, unknown>[];
}

/** The command that replays one seed. */
export function replayCommand(seed: number, target: TargetName = "ionos"): string {
  return `deno task test:model --seed ${seed}${target === "ionos" ? "" : ` --target ${target}`}`;
}

/** IdP group names a target run maps: the in-scope pool and the generator's fallback names. */
const TARGET_GROUPS = [...IN_SCOPE, ...Array.from({ length: 4 }, (_, i) => `ionos-g${i}`)];

/** Runs the case of `seed` (or the given subset of its operations) and checks the invariants. */
export async function runSeed(seed: number, options: RunOptions = {}): Promise<SeedResult> {
  const started = Date.now();
  const c = generateCase(seed);
  const ops = options.ops ?? c.ops;
  const log = options.log ?? (() => {});
  // Times within the last few minutes, all in the past (clamping is another test's subject).
  const start = Date.now() - historySpan(ops) - 20_000 - (seed % 60_000);
  const { events, model } = renderHistory(c, ops, start);
  const wanted = computeWanted(events, c.mapping);
  const disagreement = compareWithIdp(wanted, model);
  if (disagreement.length) {
    throw new Error(
      `oracle disagrees with the IdP model (a bug in test/model):\n  ${disagreement.join("\n  ")}`,
    );
  }
  const batches = planDelivery(c, events);
  const d = c.delivery;

  const target = options.target ?? "ionos";
  const other: TargetSimulator | undefined = target === "ionos"
    ? undefined
    : await startTargetSimulator(target, { groups: TARGET_GROUPS, seed, latencyMs: d.latencyMs });
  const h = await startHarness({
    mapping: target === "ionos" ? toMapping(c) : withTarget(toMapping(c), target),
    start: false,
    sim: {
      seed,
      requestDelayMs: d.requestDelayMs,
      latencyMs: d.latencyMs,
      rateLimitPerSecond: 0,
    },
    env: {
      WORKER_CONCURRENCY: String(d.workerConcurrency),
      // Faults are on for a few seconds only; with 15 attempts (backoff 50 ms doubling) no job
      // can run out of attempts while they last, so a failed job is the service's own verdict.
      JOB_ATTEMPTS: "15",
      LOG_LEVEL: "debug",
      ...other?.env,
    },
  });
  const violations: Violation[] = [];
  let observed: Observed | undefined;
  let giver: { stop(): void } | undefined;
  try {
    const initial = seedIonos(h.sim.sim, c);
    // A person gives each account the service creates an S3 key while it is active, so that
    // offboarding and reactivation are exercised on created accounts too (see keyGiver).
    giver = keyGiver(h.sim.sim, initial);
    const targetInitial = other ? seedTarget(other, c) : undefined;
    await h.startService();
    h.sim.sim.setFaults(d.faults);
    other?.view.faults.set(faultsOnly(d.faults, d.latencyMs));
    log(`seed ${seed}: ${events.length} events in ${batches.length} requests`);
    const intake = await deliver(h, c, batches);
    violations.push(...intake);
    await new Promise((r) => setTimeout(r, d.faultTailMs));
    h.sim.sim.setFaults({});
    other?.view.faults.set(d.latencyMs ? { latencyMs: d.latencyMs } : {});
    try {
      await h.drain(options.drainTimeoutMs ?? 60_000);
    } catch (error) {
      violations.push({ invariant: "drain", message: (error as Error).message });
    }
    giver.stop();
    const redis = h.redis.client();
    try {
      observed = await observe(h.sim.sim, redis, c, initial);
    } finally {
      redis.disconnect();
    }
    violations.push(
      ...checkInvariants(c, wanted, observed, {
        strictConflicts: options.strictConflicts ?? false,
      }),
      ...checkAccessInvariants(c, wanted, observed),
    );
    if (other && targetInitial) {
      const mapping = withTarget(toMapping(c), target);
      violations.push(...checkTargetInvariants(c, wanted, {
        view: other.view,
        users: other.view.users(),
        initial: targetInitial,
        ...await observeTarget(h, target, c),
        inScope: (name) =>
          target === "contabo"
            ? name in mapping.contabo.roles
            : mapping.cloudflare.groups.include.some((p) => globMatch(p, name)),
      }));
    }
  } finally {
    giver?.stop();
    await h.stop();
    await other?.close();
  }
  const stats = h.sim.sim.stats();
  return {
    seed,
    violations,
    ms: Date.now() - started,
    stats: {
      events: events.length,
      requests: batches.length,
      ionosCalls: stats.total,
      faults: stats.faults,
      failedJobs: observed?.failed.length ?? 0,
      conflicts: observed?.failed.filter((f) => /conflict/i.test(f.reason)).length ?? 0,
    },
    logs: h.logs,
    history: events.map((e) => e.body),
  };
}

/** The case's mapping; without `adopt` where the service does not know it yet (old main). */
function toMapping(c: ModelCase): Mapping {
  try {
    return parseMapping(JSON.stringify(c.mapping));
  } catch {
    const { adopt: _adopt, ...rest } = c.mapping;
    return parseMapping(JSON.stringify(rest));
  }
}

/** Creates the pre-existing users, groups and memberships, as a human did in the console. */
function seedIonos(sim: IonosSimulator, c: ModelCase): Observed["initial"] {
  const ids = new Map<string, string>();
  for (const [name, id] of Object.entries(RESOURCES)) {
    sim.access.addResource(name === "snap" ? "snapshot" : "datacenter", name, id);
  }
  for (const p of c.preexisting.users) {
    const { key: _key, s3Keys, ...input } = p;
    const id = sim.state.addUser(input).id;
    ids.set(p.key, id);
    for (const active of s3Keys ?? []) sim.access.addS3Key(id, active);
  }
  const groups = new Map<string, string>();
  for (const g of c.preexisting.groups) {
    const id = sim.state.addGroup({ name: g.name, ...g.privileges }).id;
    groups.set(g.key, id);
    for (const m of g.members) sim.state.addMember(id, ids.get(m)!);
    for (const s of g.shares ?? []) {
      sim.access.addShare(id, s.resource, { editPrivilege: s.edit, sharePrivilege: s.share });
    }
  }
  const snap = snapshotSim(sim);
  return {
    users: new Map([...ids].map(([key, id]) => [key, snap.users.get(id)!])),
    groups: new Map([...groups].map(([key, id]) => [key, snap.groups.get(id)!])),
    access: snapshotAccess(sim),
  };
}

/**
 * Every 10 ms, gives each account that appeared since (and is active at that moment) one active
 * S3 key, and notes it in `initial` as the key's starting state. The look and the write happen in
 * one tick, so a key exists before any later deactivation's listing of the account's keys.
 */
function keyGiver(sim: IonosSimulator, initial: Observed["initial"]): { stop(): void } {
  const seen = new Set(sim.state.users().map((u) => u.id));
  const timer = setInterval(() => {
    for (const u of sim.state.users()) {
      if (seen.has(u.id)) continue;
      seen.add(u.id);
      if (!u.properties.active) continue;
      const key = sim.access.addS3Key(u.id);
      initial.access.keys.set(u.id, new Map([[key.id, true]]));
    }
  }, 10);
  return { stop: () => clearInterval(timer) };
}

/** S3 keys of every account and shares of every group, as the simulator holds them now. */
function snapshotAccess(sim: IonosSimulator): AccessSnapshot {
  const keys = new Map<string, Map<string, boolean>>();
  for (const u of sim.state.users()) {
    keys.set(u.id, new Map(sim.access.s3Keys(u.id).map((k) => [k.id, k.active])));
  }
  const shares = new Map<string, Map<string, string>>();
  for (const g of sim.state.groups()) {
    shares.set(
      g.id,
      new Map(sim.access.shares(g.id).map((s) => [s.resourceId, shareFlags(s)])),
    );
  }
  return { keys, shares };
}

/** Posts the planned requests through `concurrency` lanes, each pausing a little after a post. */
async function deliver(h: Harness, c: ModelCase, batches: unknown[][]): Promise<Violation[]> {
  const violations: Violation[] = [];
  let next = 0;
  let dice = c.seed >>> 0;
  const pause = () => {
    dice = (Math.imul(dice, 1103515245) + 12345) >>> 0;
    return c.delivery.gapMaxMs ? dice % (c.delivery.gapMaxMs + 1) : 0;
  };
  const lane = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const res = await h.postEvents(batch.length === 1 ? batch[0] : { events: batch });
      const text = await res.text();
      if (res.status !== 202) {
        violations.push({ invariant: "intake", message: `POST /events ${res.status}: ${text}` });
      }
      const ms = pause();
      if (ms) await new Promise((r) => setTimeout(r, ms));
    }
  };
  await Promise.all(Array.from({ length: c.delivery.concurrency }, lane));
  return violations;
}

function snapshotSim(sim: IonosSimulator): Pick<Observed, "users" | "groups"> {
  const users = new Map<string, SimUser>();
  for (const u of sim.state.users()) {
    users.set(u.id, {
      id: u.id,
      ...u.properties,
      groups: sim.state.userGroups(u.id).sort(),
    });
  }
  const groups = new Map<string, SimGroup>();
  for (const g of sim.state.groups()) {
    const privileges: Record<string, boolean> = {};
    for (const p of IONOS_PRIVILEGES) privileges[p] = !!g.properties[p];
    groups.set(g.id, {
      id: g.id,
      name: g.properties.name,
      privileges,
      members: sim.state.members(g.id).sort(),
    });
  }
  return { users, groups };
}

/** What IONOS holds now, the service's twin records and its failed jobs. */
async function observe(
  sim: IonosSimulator,
  redis: Redis,
  c: ModelCase,
  initial: Observed["initial"],
): Promise<Observed> {
  const twins = async (kind: "user" | "group", ids: string[]) => {
    const out = new Map<string, Record<string, string>>();
    for (const id of ids) {
      const h = await redis.hgetall(`sync:ionos:${kind}:${id}`);
      if (Object.keys(h).length) out.set(id, h);
    }
    return out;
  };
  const failed: Observed["failed"] = [];
  for (const jobId of await redis.zrange("bull:ionos-sync:failed", "0", "-1")) {
    const job = await redis.hgetall(`bull:ionos-sync:${jobId}`);
    const data = JSON.parse(job.data ?? "{}") as { kind?: string; id?: string };
    failed.push({ jobId, entity: `${data.kind}:${data.id}`, reason: job.failedReason ?? "" });
  }
  return {
    ...snapshotSim(sim),
    access: snapshotAccess(sim),
    initial,
    calls: sim.callLog.map((call) => ({
      method: call.method,
      path: call.path,
      status: call.status,
      ...(call.fault ? { fault: call.fault } : {}),
    })),
    userTwins: await twins("user", c.userIds),
    groupTwins: await twins("group", c.groupIds),
    managedUsers: new Map(Object.entries(await redis.hgetall("sync:managed:users"))),
    managedGroups: new Map(Object.entries(await redis.hgetall("sync:managed:groups"))),
    failed,
    store: await readStore(redis, c),
  };
}

/** The service's wanted state of the case's users, groups and memberships. */
async function readStore(redis: Redis, c: ModelCase): Promise<Observed["store"]> {
  const json = (raw: string | null) => (raw ? JSON.parse(raw) : undefined);
  const store: Observed["store"] = { users: new Map(), groups: new Map(), members: new Map() };
  for (const id of c.userIds) {
    const u = json(await redis.get(`sync:user:${id}`));
    if (u) store.users.set(id, u);
  }
  for (const id of c.groupIds) {
    const g = json(await redis.get(`sync:group:${id}`));
    if (g) store.groups.set(id, g);
    const pairs = await redis.hgetall(`sync:members:${id}`);
    store.members.set(
      id,
      new Set(Object.entries(pairs).filter(([, v]) => v.startsWith("1:")).map(([u]) => u)),
    );
  }
  return store;
}

/** The case's mapping with `target` listed beside IONOS and its section (targetMapping). */
function withTarget(base: Mapping, target: TargetName): Mapping {
  const extra = JSON.parse(targetMapping(target, {
    groups: TARGET_GROUPS,
    administrators: base.administrators,
  }));
  return parseMapping(JSON.stringify({
    ...JSON.parse(JSON.stringify(base)),
    targets: extra.targets,
    contabo: extra.contabo,
    cloudflare: { ...extra.cloudflare, groups: { include: base.groups.include } },
  }));
}

/** The delivery's faults, with the simulator's base latency kept on. */
function faultsOnly(faults: Faults, latencyMs: number): Faults {
  return latencyMs ? { ...faults, latencyMs: (faults.latencyMs ?? 0) + latencyMs } : faults;
}

/** The pre-existing accounts, in the target too (the owner as the account's owner). */
function seedTarget(other: TargetSimulator, c: ModelCase): Map<string, ViewUser> {
  for (const p of c.preexisting.users) {
    other.view.addUnmanagedUser(p.email, { admin: p.administrator, owner: p.key === "owner" });
  }
  return new Map(other.view.users().map((u) => [u.email.toLowerCase(), u]));
}

/** The target's links of the case's users and its failed jobs. */
async function observeTarget(h: Harness, target: TargetName, c: ModelCase) {
  const redis = h.redis.client();
  try {
    const links = new Map<string, Record<string, string>>();
    for (const id of c.userIds) {
      const l = await redis.hgetall(`sync:target:${target}:user:${id}`);
      if (Object.keys(l).length) links.set(id, l);
    }
    const failed: string[] = [];
    const q = `bull:target-sync-${target}`;
    for (const jobId of await redis.zrange(`${q}:failed`, "0", "-1")) {
      const job = await redis.hgetall(`${q}:${jobId}`);
      const data = JSON.parse(job.data ?? "{}") as { kind?: string; id?: string };
      failed.push(`${data.kind}:${data.id}: ${job.failedReason ?? ""}`);
    }
    return { links, failed };
  } finally {
    redis.disconnect();
  }
}
