/**
 * A worker process is SIGKILLed with jobs in flight (some creates sent, their answers never
 * read). BullMQ finds the stalled jobs once their locks lapse, a new worker runs them again,
 * and the "creating" marks make the retried creates look the user up instead of creating twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, startCluster } from "./_lib/cluster.ts";
import { appliedUserCreates, convergenceProblems, directoryLoad } from "../_support/directory.ts";

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({
    // Slow enough that the kill lands mid-load: about 8 s of IONOS calls in all.
    workerEnv: { IONOS_RATE_LIMIT_RPS: "40", WORKER_CONCURRENCY: "8" },
  });
});
afterAll(async () => await c.stop());

describe("a worker killed with SIGKILL in the middle of jobs", () => {
  it("converges after a restart with no duplicate IONOS users", async () => {
    const { dir, bodies } = directoryLoad("wk", 60, 4, 100);
    const first = await c.spawnWorker();
    for (const body of bodies) {
      expect((await c.post(body)).status).toBe(202);
    }
    const state = c.sim.sim.state;
    const deadline = Date.now() + 30_000;
    while (state.users().length < dir.users.length / 4) {
      if (Date.now() > deadline) throw new Error(`no progress:\n${first.lines.join("\n")}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    const status = await first.kill("SIGKILL");
    expect(status.signal).toBe("SIGKILL");
    // Jobs were really cut off: they still count as active, with nobody left to run them.
    expect((await c.queue.getJobCounts("active")).active).toBeGreaterThan(0);
    expect(state.users().length).toBeLessThan(dir.users.length);

    const second = await c.spawnWorker();
    await c.drain(90_000);
    expect(await c.failures()).toEqual([]);
    expect(convergenceProblems(state, dir)).toEqual([]);
    // One applied create per user: a retried job never created a second one.
    expect(appliedUserCreates(c.sim.sim.callLog)).toBe(dir.users.length);
    expect(c.sim.sim.callLog.filter((x) => x.status === 422)).toEqual([]);
    expect(second.counts.get("sync done") ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
