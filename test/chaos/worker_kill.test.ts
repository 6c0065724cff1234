/**
 * A worker process is SIGKILLed with jobs in flight (some creates sent, their answers never
 * read). BullMQ finds the stalled jobs once their locks lapse, a new worker runs them again,
 * and the "creating" marks make the retried creates look the user up instead of creating twice
 * (or, on Contabo and Cloudflare, instead of taking the sync's own user for a stranger's).
 * Runs on every target (issue 11); that target's calls are slowed so the kill lands mid-load.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, startCluster } from "./_lib/cluster.ts";
import {
  appliedUserCreates,
  convergenceProblems,
  directoryLoad,
  viewConvergenceProblems,
} from "../_support/directory.ts";
import { TARGETS } from "../_support/targets.ts";

/** Each target's rate setting: about 8 s of calls to it in all for IONOS's load. */
const RATE_ENV = {
  ionos: "IONOS_RATE_LIMIT_RPS",
  contabo: "CONTABO_RATE_LIMIT_RPS",
  cloudflare: "CLOUDFLARE_RATE_LIMIT_RPS",
} as const;

describe.each(TARGETS)("a worker killed with SIGKILL in the middle of jobs (%s)", (target) => {
  // IONOS keeps the load it always had; the other targets a smaller one (suite time).
  const { dir, bodies } = directoryLoad("wk", target === "ionos" ? 60 : 30, 4, 100);
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster({
      workerEnv: { [RATE_ENV[target]]: "40", WORKER_CONCURRENCY: "8" },
      ...(target === "ionos"
        ? {}
        : { target: { name: target, groups: dir.groups.map((g) => g.name) } }),
    });
  }, 60_000);
  afterAll(async () => await c?.stop());

  it("converges after a restart with no duplicate users", async () => {
    const view = c.view;
    const first = await c.spawnWorker();
    for (const body of bodies) {
      expect((await c.post(body)).status).toBe(202);
    }
    const deadline = Date.now() + 30_000;
    while (view.users().length < dir.users.length / 4) {
      if (Date.now() > deadline) throw new Error(`no progress:\n${first.lines.join("\n")}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    const status = await first.kill("SIGKILL");
    expect(status.signal).toBe("SIGKILL");
    // Jobs were really cut off: they still count as active, with nobody left to run them.
    expect((await c.targetQueue.getJobCounts("active")).active).toBeGreaterThan(0);
    expect(view.users().length).toBeLessThan(dir.users.length);

    const second = await c.spawnWorker();
    await c.drain(90_000);
    expect(await c.failures()).toEqual([]);
    expect(viewConvergenceProblems(view, dir)).toEqual([]);
    // One applied create per user: a retried job never created a second one.
    expect(view.appliedCreates()).toBe(dir.users.length);
    if (target === "ionos") {
      expect(convergenceProblems(c.sim.sim.state, dir)).toEqual([]);
      expect(appliedUserCreates(c.sim.sim.callLog)).toBe(dir.users.length);
      expect(c.sim.sim.callLog.filter((x) => x.status === 422)).toEqual([]);
      expect(second.counts.get("sync done") ?? 0).toBeGreaterThan(0);
    } else {
      expect(second.counts.get("target sync done") ?? 0).toBeGreaterThan(0);
    }
  }, 120_000);
});
