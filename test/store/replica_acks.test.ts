/**
 * `REDIS_WAIT_REPLICAS`: the intake answers 2xx only once that many replicas have the events
 * (Redis WAIT), and 503 with Retry-After while they do not, so the identity provider delivers
 * again rather than trusting a write a failover could take away.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, userEvent } from "../_support/harness.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let h: Harness;
let replica: TestRedis | undefined;
beforeAll(async () => {
  h = await startHarness({ env: { REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "200" } });
});
afterAll(async () => {
  await replica?.stop();
  await h.stop();
});

describe("replica confirmations before 2xx", () => {
  it("answers 503 while no replica confirms, and 202 once one does", async () => {
    const first = await h.postEvents({
      events: [userEvent("user.created", "ra-1", "ra.one@example.com", {}, "evt-ra-1")],
    });
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).not.toBeNull();
    await first.body?.cancel();

    replica = await startRedis({ args: ["--replicaof", "127.0.0.1", String(h.redis.port)] });
    const probe = replica.client();
    for (let i = 0; !(await probe.info("replication")).includes("master_link_status:up"); i++) {
      if (i > 100) throw new Error("the replica did not catch up in 10 s");
      await new Promise((r) => setTimeout(r, 100));
    }

    // The IdP delivers the refused event again: now a replica has it, and says so.
    const again = await h.postEvents({
      events: [userEvent("user.created", "ra-1", "ra.one@example.com", {}, "evt-ra-1")],
    });
    expect(again.status).toBe(202);
    await again.body?.cancel();
    expect(JSON.parse(await probe.get("sync:user:ra-1") ?? "null")).toMatchObject({
      email: "ra.one@example.com",
    });
  });
});
