/**
 * Redis goes away in the middle of a load of events and comes back with its append-only file.
 * The intake must answer 503 (never 2xx) for what it could not store, so the identity provider
 * delivers again; everything it answered 2xx must reach the target. Runs on every target
 * (issue 11).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appliedUserCreates,
  convergenceProblems,
  directoryLoad,
  viewConvergenceProblems,
} from "../_support/directory.ts";
import { startTargetHarness, type TargetHarness, TARGETS } from "../_support/targets.ts";
import { deliverUntilAccepted, newDeliveryLog } from "./_lib/idp.ts";

describe.each(TARGETS)("Redis restarted during a load of events (%s)", (target) => {
  // IONOS keeps the load it always had; the other targets a smaller one (suite time).
  const users = target === "ionos" ? 120 : 48;
  let t: TargetHarness;
  beforeAll(async () => {
    t = await startTargetHarness(target, {
      groups: Array.from({ length: 6 }, (_, g) => `rr-group-${g}`),
      harness: { env: { WORKER_CONCURRENCY: "8" } },
    });
  }, 60_000);
  afterAll(async () => await t?.stop());

  it("applies every event once the IdP has had a 2xx for it", async () => {
    const { h, view } = t;
    const { dir, bodies: pending } = directoryLoad("rr", users, 6, 4);
    const total = pending.length;
    const log = newDeliveryLog();
    const deadline = Date.now() + 60_000;
    let accepted = 0;

    const sender = async () => {
      for (let body = pending.shift(); body; body = pending.shift()) {
        await deliverUntilAccepted(h.postEvents, body, log, deadline);
        accepted++;
        // Paced, so the outage falls in the middle of the load rather than after it.
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    const outage = async () => {
      while (accepted < total / 3) await new Promise((r) => setTimeout(r, 5));
      await h.redis.kill();
      await new Promise((r) => setTimeout(r, 1500));
      await h.redis.restart();
    };
    await Promise.all([sender(), sender(), sender(), outage()]);
    console.log(`deliveries by answer: ${JSON.stringify(Object.fromEntries(log.statuses))}`);

    // The outage was really hit: some deliveries were refused and sent again.
    expect(log.statuses.get("503") ?? 0).toBeGreaterThan(0);
    expect(log.statuses.get("202")).toBe(total);

    // Entities stored but not enqueued before the outage are swept from the outbox (>= 5 s).
    await h.drain(90_000);
    expect(await t.failedJobs()).toEqual([]);
    expect(viewConvergenceProblems(view, dir)).toEqual([]);
    expect(view.appliedCreates()).toBe(dir.users.length);
    if (target === "ionos") {
      expect(convergenceProblems(h.sim.sim.state, dir)).toEqual([]);
      expect(appliedUserCreates(h.sim.sim.callLog)).toBe(dir.users.length);
    }
  }, 120_000);
});
