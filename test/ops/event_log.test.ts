/** EventLog against a real Redis: lookups, paging, and retention by count and by age. */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncEvent } from "../../src/events/event.ts";
import { EventLog } from "../../src/ops/oplog/event_log.ts";
import type { ApplyResult } from "../../src/store/wanted_state.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => await server.stop());

const event = (i: number): SyncEvent => ({
  id: `ev-${i}`,
  type: "user.updated",
  data: { id: `u${i % 3}`, emails: [{ value: `u${i % 3}@example.com` }] },
});
const applied = (events: SyncEvent[]): ApplyResult => ({
  accepted: events.length,
  duplicates: 0,
  clamped: 0,
  stamp: Date.now(),
  entities: [...new Set(events.map((e) => `user:${(e.data as { id: string }).id}` as const))],
  groups: {},
});

describe("EventLog", () => {
  it("finds entries by event id, log id and entity, and pages through all of them", async () => {
    const log = new EventLog(redis, { prefix: "t1" });
    const events = Array.from({ length: 1200 }, (_, i) => event(i));
    for (let i = 0; i < events.length; i += 400) {
      const batch = events.slice(i, i + 400);
      await log.append(batch, applied(batch), { source: "events" });
    }
    expect(await log.length()).toBe(1200);
    const one = await log.get("ev-7");
    expect(one).toMatchObject({ eventId: "ev-7", entity: "user:u1", source: "events" });
    expect((await log.get(one!.logId))?.eventId).toBe("ev-7");
    expect(await log.get("missing")).toBeUndefined();

    const all = [];
    for await (const e of log.scan({ ascending: true })) all.push(e.eventId);
    expect(all).toHaveLength(1200);
    expect(all[0]).toBe("ev-0");
    const newest = await log.list({ limit: 3 });
    expect(newest.map((e) => e.eventId)).toEqual(["ev-1199", "ev-1198", "ev-1197"]);
    // The entity index keeps the last 200 per entity.
    const forU1 = await log.list({ entity: "user:u1", limit: 1000 });
    expect(forU1).toHaveLength(200);
    expect(forU1[0]!.eventId).toBe("ev-1198");
  });

  it("skips events it already holds when the batch had duplicates", async () => {
    const log = new EventLog(redis, { prefix: "t2" });
    await log.append([event(1)], applied([event(1)]), { source: "events" });
    const ids = await log.append([event(1), event(2)], {
      ...applied([event(2)]),
      accepted: 1,
      duplicates: 1,
    }, { source: "events" });
    expect(ids[0]).toBe("");
    expect(await log.length()).toBe(2);
  });

  it("trims by count (approximately, whole stream nodes)", async () => {
    const log = new EventLog(redis, { prefix: "t3", maxEntries: 10 });
    const events = Array.from({ length: 500 }, (_, i) => event(i));
    for (let i = 0; i < events.length; i += 50) {
      const batch = events.slice(i, i + 50);
      await log.append(batch, applied(batch), { source: "events" });
    }
    const length = await log.length();
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThanOrEqual(10 + 100); // Redis trims whole nodes of 100 entries
  });

  it("trims by age", async () => {
    const log = new EventLog(redis, { prefix: "t4", maxAgeMs: 60_000 });
    // Entries from long ago, written with explicit ids.
    for (let i = 1; i <= 300; i++) await redis.xadd(log.key, `${1000 + i}-0`, "e", `old-${i}`);
    await log.append([event(1)], applied([event(1)]), { source: "events" });
    const oldLeft = await redis.xrange(log.key, "-", "2000");
    expect(oldLeft.length).toBeLessThan(100);
    expect((await log.list()).map((e) => e.eventId)).toContain("ev-1");
  });

  // Finding 13: unknown fields were stored whole; the secret blocklist missed credentials.value.
  it("stores only the mapped fields of an event", async () => {
    const log = new EventLog(redis, { prefix: "t5" });
    const e = {
      id: "ev-pii",
      type: "user.created",
      data: {
        id: "u9",
        emails: [{ value: "u9@example.com", primary: true }],
        credentials: { value: "plain-credential-value" },
        phoneNumbers: [{ value: "+49 30 1234567" }],
      },
    } as unknown as SyncEvent;
    await log.append([e], applied([e]), { source: "events" });
    const stored = JSON.stringify(await redis.xrange(log.key, "-", "+"));
    expect(stored).toContain("u9@example.com");
    expect(stored).not.toContain("plain-credential-value");
    expect(stored).not.toContain("+49 30 1234567");
  });
});
