/**
 * Redis goes away in the middle of a load of events and comes back with its append-only file.
 * The intake must answer 503 (never 2xx) for what it could not store, so the identity provider
 * delivers again; everything it answered 2xx must reach IONOS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../_support/harness.ts";
import { appliedUserCreates, convergenceProblems, directoryLoad } from "../_support/directory.ts";
import { deliverUntilAccepted, newDeliveryLog } from "./_lib/idp.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { WORKER_CONCURRENCY: "8" } });
});
afterAll(async () => await h.stop());

describe("Redis restarted during a load of events", () => {
  it("applies every event once the IdP has had a 2xx for it", async () => {
    const { dir, bodies: pending } = directoryLoad("rr", 120, 6, 4);
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
    const stats = await h.drain(90_000);
    expect(convergenceProblems(h.sim.sim.state, dir)).toEqual([]);
    expect(stats.jobs.failed).toBe(0);
    expect(appliedUserCreates(h.sim.sim.callLog)).toBe(dir.users.length);
  }, 120_000);
});
