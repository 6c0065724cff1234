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
  it("reads entries written before the one-field format as before, beside new ones", async () => {
    const log = new EventLog(redis, { prefix: "t0" });
    // As the append wrote them until 2026-11-30: a field per fact, `jobs` a JSON map.
    const payload = { id: "ev-old", type: "user.updated", data: { id: "u9" } };
    const oldId = await redis.xadd(
      log.key,
      "*",
      ...["jobs", '{"user:u9":"41"}', "e", "ev-old", "src", "scim", "type", "user.updated"],
      ...["ent", "user:u9", "t", "1700000000000", "tev", "1", "ents", '["user:u9"]'],
      ...["p", JSON.stringify(payload), "rq", "req-1"],
    );
    await redis.set("t0:eventlog:id:ev-old", oldId!);
    await log.append([event(9)], applied([event(9)]), { source: "events", requestId: "req-2" }, {
      jobs: { "user:u0": "42" },
    });
    const old = await log.get("ev-old");
    expect(old).toEqual({
      logId: oldId,
      eventId: "ev-old",
      source: "scim",
      type: "user.updated",
      entity: "user:u9",
      time: new Date(1700000000000).toISOString(),
      timeFromEvent: true,
      receivedAt: new Date(Number(oldId!.split("-")[0])).toISOString(),
      requestId: "req-1",
      entities: ["user:u9"],
      jobs: { "user:u9": "41" },
      payload,
    });
    const fresh = await log.get("ev-9");
    expect(fresh).toMatchObject({
      eventId: "ev-9",
      source: "events",
      entity: "user:u0",
      timeFromEvent: false,
      requestId: "req-2",
      entities: ["user:u0"],
      jobs: { "user:u0": "42" },
      payload: { id: "ev-9", type: "user.updated" },
    });
    const [, fields] = (await redis.xrange(log.key, fresh!.logId, fresh!.logId))[0]!;
    expect(fields).toEqual(["d", expect.any(String), "job", "42"]);
  });

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
