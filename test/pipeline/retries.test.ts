/**
 * IONOS misbehaving: 429s, 5xx and lost answers are retried until the state converges, and a
 * create whose answer was lost never makes a second user.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness, userEvent } from "../_support/harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const emails = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `${tag}${i}@example.com`);

async function loadUsers(harness: Harness, list: string[]) {
  const res = await harness.postEvents({
    events: list.map((e, i) => userEvent("user.created", `${e}-${i}`, e)),
  });
  expect(res.status).toBe(202);
}

function usersByEmail(harness: Harness): Map<string, number> {
  const counts = new Map<string, number>();
  for (const u of harness.sim.sim.state.users()) {
    counts.set(u.properties.email, (counts.get(u.properties.email) ?? 0) + 1);
  }
  return counts;
}

describe("retries against a misbehaving IONOS", () => {
  it("retries 429 (honouring Retry-After) and converges", async () => {
    h = await startHarness({ sim: { seed: 7, faults: { rate429: 0.1 } } });
    const list = emails(5, "rl");
    await loadUsers(h, list);
    const stats = await h.drain(60_000);
    expect(stats.jobs.failed).toBe(0);
    expect(h.sim.sim.stats().byStatus["429"] ?? 0).toBeGreaterThan(0);
    const counts = usersByEmail(h);
    for (const e of list) expect(counts.get(e)).toBe(1);
  });

  it("retries 5xx and converges", async () => {
    h = await startHarness({ sim: { seed: 11, faults: { error5xxRate: 0.3, status5xx: 503 } } });
    const list = emails(8, "err");
    await loadUsers(h, list);
    const stats = await h.drain(60_000);
    expect(stats.jobs.failed).toBe(0);
    expect(h.sim.sim.stats().byStatus["503"] ?? 0).toBeGreaterThan(0);
    const counts = usersByEmail(h);
    for (const e of list) expect(counts.get(e)).toBe(1);
  });

  it("never makes a second user when a create's answer is lost", async () => {
    h = await startHarness({
      sim: {
        seed: 3,
        faults: { lostAnswerRate: 1, methods: ["POST"], pathPrefix: "/cloudapi/v6/um/users" },
      },
    });
    await loadUsers(h, ["lost@example.com"]);
    // Every create answer is lost: let a few attempts happen, then heal IONOS.
    await new Promise((r) => setTimeout(r, 400));
    h.sim.sim.setFaults({});
    const stats = await h.drain(60_000);
    expect(stats.jobs.failed).toBe(0);
    expect(usersByEmail(h).get("lost@example.com")).toBe(1);
    const twin = await h.redis.client().hgetall("sync:ionos:user:lost@example.com-0");
    // Our own create, found by email after the lost answer: recorded as created, not adopted.
    expect(twin.origin).toBe("created");
  });
});
