/**
 * Sync: how long a fresh contract takes to converge after an initial load (users, groups,
 * memberships), against the simulator with a fixed IONOS rate limit; how close the workers get
 * to that limit; how many IONOS calls they make per change compared with the fewest possible;
 * and the memory of the intake and worker processes meanwhile.
 */
import type { Redis } from "ioredis";
import { createSyncQueue } from "../src/queue/sync_queue.ts";
import {
  type RequestTiming,
  startIonosSimulator,
  TIMING_PROFILES,
  type TimingProfile,
} from "../src/targets/ionos/simulator/mod.ts";
import {
  batches,
  convergenceProblems,
  type Directory,
  groupCreatedEvent,
  userCreatedEvent,
} from "../test/_support/directory.ts";
import { spawnService } from "../test/_support/service_process.ts";
import { EVENTS_TOKEN } from "./lib/intake_service.ts";
import { type CallKind, countCalls } from "./lib/ionos_calls.ts";

export interface SyncOptions {
  redisUrl: string;
  redis: Redis;
  users: number;
  groups: number;
  groupsPerUser: number;
  /** The simulator's limit (requests per second, burst the same). */
  simRatePerSec: number;
  /** IONOS_RATE_LIMIT_RPS of the workers. */
  serviceRatePerSec: number;
  workerConcurrency: number;
  timeoutSec: number;
  /** How long IONOS requests take in the simulator. @default "fast" (20 ms) */
  requestTiming?: TimingProfile;
  log: (line: string) => void;
}

export interface ProcessPeak {
  /** VmHWM at the end, bytes. */
  peakRss: number;
  /** Highest VmRSS sampled every 200 ms, bytes. */
  maxSampledRss: number;
}

export interface SyncResults {
  /** The simulator's request-timing profile. */
  profile: TimingProfile;
  users: number;
  groups: number;
  memberships: number;
  simRatePerSec: number;
  serviceRatePerSec: number;
  workerConcurrency: number;
  converged: boolean;
  problems: string[];
  loadSeconds: number;
  convergeSeconds: number;
  ionosCalls: number;
  byKind: Partial<Record<CallKind, number>>;
  byStatus: Record<string, number>;
  rateLimited: number;
  maxPerSecond: number;
  maxAcceptedPerSecond: number;
  achievedPerSec: number;
  /** achievedPerSec / simRatePerSec. */
  shareOfAllowed: number;
  /** Changes the load asks for: one create per user and group, one add per membership. */
  changes: number;
  /**
   * The fewest calls for those changes: each write, a listing page per 100 users and a group
   * listing per group. Polls count 0: one
   * request listing per interval confirms every write in flight (src/targets/ionos/request_tracker.ts).
   */
  minimumCalls: { writes: number; polls: number; reads: number; total: number };
  /** Fewest calls / rate limit + one median request duration. */
  floorSeconds: number;
  /** Status GETs and request listings per write. */
  pollsPerWrite: number;
  syncJobs: number;
  failedJobs: number;
  memory: { intake: ProcessPeak; worker: ProcessPeak; redisPeakUsed: number };
}

/** The median of a timing's duration, for the floor. */
function medianMs(t: RequestTiming): number {
  const d = t.duration;
  if (d.kind === "fixed") return d.ms;
  if (d.kind === "uniform") return (d.minMs + d.maxMs) / 2;
  return d.medianMs;
}

const usedMemory = async (redis: Redis) =>
  Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);

/** User i belongs to groups (i + k * groups / groupsPerUser) mod groups, k < groupsPerUser. */
export function benchDirectory(users: number, groups: number, groupsPerUser: number): Directory {
  const us = Array.from({ length: users }, (_, i) => ({
    id: `bu${i}`,
    email: `bench.user${i}@example.com`,
  }));
  const step = Math.floor(groups / groupsPerUser);
  const members: string[][] = Array.from({ length: groups }, () => []);
  us.forEach((u, i) => {
    for (let k = 0; k < groupsPerUser; k++) members[(i + k * step) % groups]!.push(u.id);
  });
  return {
    users: us,
    groups: members.map((m, g) => ({ id: `bg${g}`, name: `bench-group-${g}`, members: m })),
  };
}

/** The directory as `{events}` bodies: users 100 per request, then every group in one. */
function loadBodies(dir: Directory): string[] {
  const users = dir.users.map((u) => userCreatedEvent(u, "Bench"));
  const bodies = batches(users, 100).map((body) => JSON.stringify(body));
  bodies.push(JSON.stringify({ events: dir.groups.map(groupCreatedEvent) }));
  return bodies;
}

export async function benchSync(o: SyncOptions): Promise<SyncResults> {
  await o.redis.flushall();
  const dir = benchDirectory(o.users, o.groups, o.groupsPerUser);
  const memberships = dir.groups.reduce((n, g) => n + g.members.length, 0);
  const profile = o.requestTiming ?? "fast";
  const sim = await startIonosSimulator({
    rateLimitPerSecond: o.simRatePerSec,
    seed: 1,
    maxCallLog: 2_000_000,
    requestTiming: profile,
  });
  const api = await spawnService("api", {
    env: { REDIS_URL: o.redisUrl, EVENTS_TOKEN },
    discardStdout: true,
  });
  const worker = await spawnService("worker", {
    env: {
      REDIS_URL: o.redisUrl,
      IONOS_API_URL: sim.url,
      IONOS_TOKEN: "sim-token",
      IONOS_RATE_LIMIT_RPS: String(o.serviceRatePerSec),
      WORKER_CONCURRENCY: String(o.workerConcurrency),
    },
  });
  const queue = createSyncQueue(o.redis);
  const peaks = { intake: 0, worker: 0, redis: await usedMemory(o.redis) };
  let ticks = 0;
  const sampler = setInterval(() => {
    peaks.intake = Math.max(peaks.intake, api.memory()?.rss ?? 0);
    peaks.worker = Math.max(peaks.worker, worker.memory()?.rss ?? 0);
    // Redis once a second: INFO is cheap, but not free for the Redis being measured.
    if (ticks++ % 5 === 0) {
      usedMemory(o.redis).then((m) => peaks.redis = Math.max(peaks.redis, m), () => {});
    }
  }, 200);

  try {
    o.log(
      `${o.users} users, ${o.groups} groups, ${memberships} memberships; IONOS limit ` +
        `${o.simRatePerSec}/s, workers ${o.serviceRatePerSec}/s, concurrency ${o.workerConcurrency}, ` +
        `${profile} requests`,
    );
    const t0 = performance.now();
    for (const body of loadBodies(dir)) {
      const res = await fetch(`${api.url}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${EVENTS_TOKEN}` },
        body,
      });
      if (res.status !== 202) throw new Error(`load refused: ${res.status} ${await res.text()}`);
      await res.body?.cancel();
    }
    const loadSeconds = (performance.now() - t0) / 1000;

    let converged = false;
    let lastLog = 0;
    while ((performance.now() - t0) / 1000 < o.timeoutSec) {
      await new Promise((r) => setTimeout(r, 500));
      const counts = await queue.getJobCounts("waiting", "prioritized", "active", "delayed");
      const pending = Object.values(counts).reduce((a, b) => a + b, 0) +
        await o.redis.zcard("sync:outbox");
      // Compared only once the queue is empty: the simulator serves the workers from this
      // process, so a full comparison every 500 ms would take CPU from it mid-run.
      if (pending === 0 && convergenceProblems(sim.sim.state, dir).length === 0) {
        converged = true;
        break;
      }
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        o.log(
          `  ${Math.round((performance.now() - t0) / 1000)} s: ${sim.sim.state.users().length}` +
            ` users in IONOS, ${pending} jobs pending, ${sim.sim.callLog.length} IONOS calls`,
        );
      }
    }
    const convergeSeconds = (performance.now() - t0) / 1000;
    const problems = converged ? [] : convergenceProblems(sim.sim.state, dir);
    const stats = sim.sim.stats();
    const calls = countCalls(sim.sim.callLog);
    const writes = o.users + o.groups + memberships;
    // Every user is looked up by email before its create: one page of the user listing answers
    // 100 of them (workers/user_lookup.ts); one listing of groups per new group. (Before the
    // shared listing, the floor counted one lookup per user.)
    const reads = Math.ceil(o.users / 100) + o.groups;
    const jobCounts = await queue.getJobCounts("completed", "failed");
    const achievedPerSec = calls.total / convergeSeconds;
    const minimum = writes + reads;
    const floorSeconds = minimum / o.simRatePerSec + medianMs(TIMING_PROFILES[profile]) / 1000;
    const polls = (calls.byKind["request poll"] ?? 0) + (calls.byKind["request listing"] ?? 0);
    return {
      profile,
      floorSeconds,
      pollsPerWrite: polls / writes,
      users: o.users,
      groups: o.groups,
      memberships,
      simRatePerSec: o.simRatePerSec,
      serviceRatePerSec: o.serviceRatePerSec,
      workerConcurrency: o.workerConcurrency,
      converged,
      problems: problems.slice(0, 10),
      loadSeconds,
      convergeSeconds,
      ionosCalls: calls.total,
      byKind: calls.byKind,
      byStatus: calls.byStatus,
      rateLimited: stats.rateLimited,
      maxPerSecond: stats.maxPerSecond,
      maxAcceptedPerSecond: stats.maxAcceptedPerSecond,
      achievedPerSec,
      shareOfAllowed: achievedPerSec / o.simRatePerSec,
      changes: writes,
      minimumCalls: { writes, polls: 0, reads, total: minimum },
      syncJobs: jobCounts.completed ?? 0,
      failedJobs: jobCounts.failed ?? 0,
      memory: {
        intake: { peakRss: api.memory()?.peakRss ?? 0, maxSampledRss: peaks.intake },
        worker: { peakRss: worker.memory()?.peakRss ?? 0, maxSampledRss: peaks.worker },
        redisPeakUsed: peaks.redis,
      },
    };
  } finally {
    clearInterval(sampler);
    await queue.close();
    await Promise.all([api.kill("SIGTERM"), worker.kill("SIGTERM")]);
    await sim.close();
  }
}
