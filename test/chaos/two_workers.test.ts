/**
 * Two worker processes share one Redis and one set of IONOS credentials. They must not step on
 * each other (no duplicates, nothing failed), and together they must stay within the one IONOS
 * rate limit, because IONOS counts per credential, not per process (ionos-facts.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, startCluster } from "./_lib/cluster.ts";
import { appliedUserCreates, convergenceProblems, directoryLoad } from "../_support/directory.ts";

const RATE = 20;
/** The shared limiter's burst (RedisRateLimiter's default). */
const BURST = 1;
/**
 * The simulator counts arrivals, the limiter counts grants; a process that stalls between the
 * two (GC, a busy CI machine) can shift a few calls into the next second. A per-process limit
 * would show up as up to twice RATE, far above this.
 */
const ARRIVAL_SLACK = 3;

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({
    // The simulator does not limit, so its counts show what the workers chose to send.
    sim: { rateLimitPerSecond: 0 },
    workerEnv: { IONOS_RATE_LIMIT_RPS: String(RATE), WORKER_CONCURRENCY: "6" },
  });
});
afterAll(async () => await c.stop());

describe("two worker processes against one Redis", () => {
  it("converge with no duplicates and share the IONOS rate limit", async () => {
    const [a, b] = await Promise.all([c.spawnWorker(), c.spawnWorker()]);
    const { dir, bodies } = directoryLoad("tw", 60, 3, 100);
    for (const body of bodies) {
      expect((await c.post(body)).status).toBe(202);
    }
    await c.drain(120_000);
    const sim = c.sim.sim;
    expect(await c.failures()).toEqual([]);
    expect(convergenceProblems(sim.state, dir)).toEqual([]);
    expect(appliedUserCreates(sim.callLog)).toBe(dir.users.length);
    expect(sim.callLog.filter((x) => x.status === 422)).toEqual([]);

    // Both processes did work, so the limit was really shared.
    expect(a!.counts.get("sync done") ?? 0).toBeGreaterThan(0);
    expect(b!.counts.get("sync done") ?? 0).toBeGreaterThan(0);
    const stats = sim.stats();
    console.log(
      `${stats.total} IONOS calls, at most ${stats.maxPerSecond} in one second (limit ${RATE})`,
    );
    expect(stats.maxPerSecond).toBeLessThanOrEqual(RATE + BURST + ARRIVAL_SLACK);
  }, 150_000);
});
