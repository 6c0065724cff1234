/**
 * Redis Sentinel: the primary is SIGKILLed in the middle of a load of events, a Sentinel promotes
 * the replica, and the service (intake and workers, connected through `REDIS_SENTINELS` only)
 * follows it. Every event the intake answered 2xx for must be in the new primary's wanted state
 * and reach IONOS: an answer is only given once a replica has the event (Redis WAIT), so the
 * failover cannot take it away.
 *
 * With one replica and `REDIS_WAIT_REPLICAS=1`, the new primary has no replica until the old one
 * comes back, and the intake answers 503 until then; the test restarts the killed node, which
 * the Sentinels turn into a replica of the new primary, as an operator's restart would.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as cli } from "../../src/cli/main.ts";
import { loadConfig } from "../../src/config/config.ts";
import { DEFAULT_MAPPING } from "../../src/config/mapping.ts";
import { createLogger } from "../../src/log.ts";
import { createSyncQueue } from "../../src/queue/sync_queue.ts";
import { type Service, startService } from "../../src/service.ts";
import {
  type RunningSimulator,
  startIonosSimulator,
} from "../../src/targets/ionos/simulator/mod.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { EVENTS_TOKEN, serviceEnv } from "../_support/harness.ts";
import { startSentinelGroup, type TestSentinelGroup } from "../_support/redis.ts";
import { appliedUserCreates, convergenceProblems, directoryLoad } from "../_support/directory.ts";
import { deliverUntilAccepted, newDeliveryLog } from "./_lib/idp.ts";

let group: TestSentinelGroup;
let sim: RunningSimulator;
let service: Service;

beforeAll(async () => {
  group = await startSentinelGroup();
  sim = await startIonosSimulator({ requestDelayMs: 2, rateLimitPerSecond: 0 });
  const env = serviceEnv("", sim.url, {
    REDIS_SENTINELS: group.sentinelList,
    REDIS_SENTINEL_NAME: group.masterName,
    PORT: "0",
    HOST: "127.0.0.1",
    WORKER_CONCURRENCY: "8",
    // A job whose worker lost its lock in the failover is picked up again in seconds.
    WORKER_LOCK_DURATION_MS: "2000",
    WORKER_STALLED_INTERVAL_MS: "1000",
  });
  const config = loadConfig(env, "all");
  expect(config.redis).toMatchObject({ kind: "sentinel", waitReplicas: 1 });
  service = await startService(config, DEFAULT_MAPPING, createLogger({ level: "silent" }));
}, 60_000);
afterAll(async () => {
  await service?.stop();
  await sim?.close();
  await group?.stop();
});

const post = (body: unknown) =>
  fetch(`${service.url}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${EVENTS_TOKEN}` },
    body: JSON.stringify(body),
  });

describe("Redis Sentinel failover during a load of events", () => {
  it("loses no event the intake answered 2xx for", async () => {
    const { dir, bodies } = directoryLoad("sf", 150, 6, 4);
    const pending = [...bodies];
    const total = pending.length;
    const log = newDeliveryLog();
    const deadline = Date.now() + 90_000;
    let accepted = 0;
    let acceptedBeforeKill = -1;
    let acceptedAfterFailover = 0;
    let failedOver = false;

    const sender = async () => {
      for (let body = pending.shift(); body; body = pending.shift()) {
        await deliverUntilAccepted(post, body, log, deadline);
        accepted++;
        if (failedOver) acceptedAfterFailover++;
        // Paced, so the failover falls in the middle of the load rather than after it.
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    const failover = async () => {
      while (accepted < total / 3) await new Promise((r) => setTimeout(r, 5));
      acceptedBeforeKill = accepted;
      const killed = await group.killPrimary();
      const promoted = await group.waitForFailover(killed.port);
      expect(promoted.port).not.toBe(killed.port);
      failedOver = true;
      // Back as it would be after an operator's restart: the Sentinels make it a replica.
      await killed.restart();
    };
    await Promise.all([sender(), sender(), sender(), failover()]);
    console.log(
      `deliveries by answer: ${JSON.stringify(Object.fromEntries(log.statuses))}; ` +
        `accepted before the kill: ${acceptedBeforeKill}, after the failover: ${acceptedAfterFailover}`,
    );

    // The failover really fell in the middle of the load, and was felt.
    expect(acceptedBeforeKill).toBeGreaterThan(0);
    expect(acceptedAfterFailover).toBeGreaterThan(0);
    expect(log.statuses.get("202")).toBe(total);
    const refused = (log.statuses.get("503") ?? 0) + (log.statuses.get("network") ?? 0);
    expect(refused).toBeGreaterThan(0);

    // Every accepted user is in the new primary's wanted state, whatever IONOS got so far.
    const redis = group.client();
    const store = new WantedStateStore(redis);
    const stored = await store.getUsers(dir.users.map((u) => u.id));
    expect(dir.users.filter((u) => !stored.has(u.id)).map((u) => u.id)).toEqual([]);
    const storedGroups = await Promise.all(dir.groups.map((g) => store.getGroup(g.id)));
    expect(storedGroups.filter((g) => g === undefined)).toEqual([]);

    // And everything reaches IONOS, once and exactly.
    const queue = createSyncQueue(redis);
    try {
      const until = Date.now() + 90_000;
      for (let quiet = 0; quiet < 2;) {
        const c = await queue.getJobCounts("waiting", "prioritized", "active", "delayed");
        const busy = Object.values(c).reduce((a, b) => a + b, 0) + await redis.zcard("sync:outbox");
        quiet = busy === 0 ? quiet + 1 : 0;
        if (Date.now() > until) throw new Error(`queue did not drain: ${JSON.stringify(c)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(convergenceProblems(sim.sim.state, dir)).toEqual([]);
      expect(appliedUserCreates(sim.sim.callLog)).toBe(dir.users.length);
      expect(await queue.getJobCountByTypes("failed")).toBe(0);
    } finally {
      await queue.close();
    }

    // The operator's CLI finds the new primary through the Sentinels too.
    const out: string[] = [];
    const code = await cli(["status", "--json"], {
      REDIS_SENTINELS: group.sentinelList,
      REDIS_SENTINEL_NAME: group.masterName,
    }, { stdout: (t) => out.push(t), stderr: (t) => out.push(t), isTTY: false });
    expect(code, out.join("")).toBe(0);
    expect(JSON.parse(out.join(""))).toMatchObject({
      managed: { users: dir.users.length, groups: dir.groups.length },
    });
  }, 180_000);
});
