/**
 * The console's two Redis-backed parts on their own, against a real Redis: sessions (expiry,
 * sign-out, admin token rotation) and the per-minute activity ring buffer behind the charts.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activityKey,
  IonosCallCounter,
  readActivity,
  recordEvents,
  startActivityRecorder,
} from "../../src/console/activity.ts";
import { budgetScale } from "../../src/console/chart.tsx";
import { SessionStore } from "../../src/console/session.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const TOKEN = "console-test-admin-token-0123";

describe("SessionStore", () => {
  it("opens a session readable by its id only, until it expires", async () => {
    let now = 1_000_000;
    const sessions = new SessionStore(redis, TOKEN, {
      prefix: "s1",
      ttlMs: 60_000,
      now: () => now,
    });
    const { id, session } = await sessions.open();
    expect(session.expiresAt).toBe(now + 60_000);
    expect(await sessions.read(id)).toEqual(session);
    expect(await sessions.read(`${id}x`)).toBeUndefined();
    expect(await sessions.read(undefined)).toBeUndefined();
    // Redis expires the key too; the stored expiry guards a clock ahead of Redis.
    expect(await redis.pttl(`s1:console:session:${session.handle}`)).toBeGreaterThan(50_000);
    now += 60_000;
    expect(await sessions.read(id)).toBeUndefined();
  });

  it("ends a session on close (sign-out)", async () => {
    const sessions = new SessionStore(redis, TOKEN, { prefix: "s2" });
    const { id, session } = await sessions.open();
    await sessions.close(session.handle);
    expect(await sessions.read(id)).toBeUndefined();
  });

  it("ends every session when the admin token changes", async () => {
    const before = new SessionStore(redis, TOKEN, { prefix: "s3" });
    const { id } = await before.open();
    const after = new SessionStore(redis, `${TOKEN}-rotated`, { prefix: "s3" });
    expect(await after.read(id)).toBeUndefined();
    expect(await before.read(id)).toBeDefined();
  });

  it("gives each session its own CSRF token", async () => {
    const sessions = new SessionStore(redis, TOKEN, { prefix: "s4" });
    const [a, b] = await Promise.all([sessions.open(), sessions.open()]);
    expect(a.session.csrfToken).not.toBe(b.session.csrfToken);
    expect(a.session.csrfToken.length).toBeGreaterThanOrEqual(40);
  });
});

describe("activity ring buffer", () => {
  it("sums events and IONOS calls of several processes per minute, with the limit", async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 30);
    // Two intakes record events as they accept them.
    await recordEvents(redis, "a1", 2, undefined, now);
    await recordEvents(redis, "a1", 1, undefined, now);
    await recordEvents(redis, "a1", 0, undefined, now); // all duplicates: nothing
    // Two workers count their calls and write them when stopped (or every 10 s).
    const workers = [new IonosCallCounter(), new IonosCallCounter()];
    const stops = workers.map((calls) => {
      calls.limitPerMinute = () => 120;
      return startActivityRecorder({
        redis,
        calls,
        prefix: "a1",
        flushEveryMs: 60_000,
        now: () => now,
      });
    });
    for (let i = 0; i < 5; i++) workers[i % 2]!.count();
    for (const stop of stops) await stop();
    // A minute later the limit learned from IONOS is lower.
    now += 60_000;
    const later = new IonosCallCounter();
    later.limitPerMinute = () => 60;
    const stopLater = startActivityRecorder({
      redis,
      calls: later,
      prefix: "a1",
      flushEveryMs: 60_000,
      now: () => now,
    });
    later.count();
    await stopLater();

    const hour = await readActivity(redis, "a1", 60, now);
    expect(hour).toHaveLength(60);
    expect(hour[59]).toEqual({
      at: Date.UTC(2026, 0, 1, 12, 1),
      events: 0,
      ionosCalls: 1,
      limitPerMinute: 60,
    });
    expect(hour[58]).toEqual({
      at: Date.UTC(2026, 0, 1, 12, 0),
      events: 3,
      ionosCalls: 5,
      limitPerMinute: 120,
    });
    expect(hour.slice(0, 58).every((m) => m.events === 0 && m.ionosCalls === 0)).toBe(true);
    const ttl = await redis.ttl(activityKey("a1", Date.UTC(2026, 0, 1, 12, 0)));
    expect(ttl).toBeGreaterThan(3600);
    expect(ttl).toBeLessThanOrEqual(7200);
  });

  it("writes nothing for an interval without calls", async () => {
    const quiet = new IonosCallCounter();
    quiet.limitPerMinute = () => 120;
    const stop = startActivityRecorder({ redis, calls: quiet, prefix: "a3", flushEveryMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    await stop();
    expect(await redis.keys("a3:*")).toEqual([]);
  });

  it("scales the budget chart to the busiest minute", () => {
    expect(budgetScale([])).toBe(0.001);
    expect(budgetScale([0.0004, 0.013])).toBe(0.02);
    expect(budgetScale([0.95])).toBe(1);
    expect(budgetScale([1.3])).toBe(1);
  });
});
