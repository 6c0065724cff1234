/**
 * Finding 13 of issue 10: personal data outlived its retention. One sweeper, against a real
 * Redis and a real BullMQ queue, with no events arriving while it works.
 */
import type { Redis } from "ioredis";
import { Queue, QueueEvents, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncEvent } from "../../src/events/event.ts";
import { AuditLog } from "../../src/ops/oplog/audit_log.ts";
import { EventLog } from "../../src/ops/oplog/event_log.ts";
import { sweepRetention } from "../../src/ops/oplog/retention.ts";
import { createLogger } from "../../src/log.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

const HOUR = 3_600_000;
const logger = createLogger({ level: "silent" });
let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => await server.stop());

const user = (id: string, email: string, type: SyncEvent["type"], time: string): SyncEvent =>
  ({
    id: `${type}-${id}-${time}`,
    type,
    time,
    data: type === "user.deleted" ? { id } : { id, emails: [{ value: email, primary: true }] },
  }) as SyncEvent;

describe("sweepRetention()", () => {
  it("trims the event log and the audit log to their ages with nothing arriving", async () => {
    const log = new EventLog(redis, { prefix: "r1", maxAgeMs: HOUR });
    const audit = new AuditLog(redis, { prefix: "r1", maxAgeMs: 2 * HOUR });
    const now = Date.now();
    await redis.xadd(audit.key, `${now - 3 * HOUR}-0`, "action", "discard", "detail", "ada@x.test");
    // Three hours old, as the finding saw: written straight into the stream, as append did then.
    await redis.xadd(log.key, `${now - 3 * HOUR}-0`, "e", "old", "p", '{"email":"old@x.test"}');
    await redis.xadd(log.key, `${now - 60_000}-0`, "e", "new", "p", '{"email":"new@x.test"}');
    const report = await sweepRetention({
      redis,
      prefix: "r1",
      eventLog: log,
      auditLog: audit,
      queues: [],
      retentionMs: 24 * HOUR,
      logger,
    });
    expect(report.eventLogEntries).toBe(1);
    expect(report.auditLogEntries).toBe(1);
    const left = await redis.xrange(log.key, "-", "+");
    expect(left.map(([, f]) => f[1])).toEqual(["new"]);
  });

  it("removes the email from tombstones older than the retention, and only from those", async () => {
    const store = new WantedStateStore(redis, { prefix: "r2" });
    const old = new Date(Date.now() - 10 * 24 * HOUR).toISOString();
    const recent = new Date(Date.now() - HOUR).toISOString();
    await store.applyEvents([
      user("u-old", "gone@example.com", "user.created", old),
      user("u-old", "", "user.deleted", old),
      user("u-new", "recent@example.com", "user.created", recent),
      user("u-new", "", "user.deleted", recent),
      user("u-live", "live@example.com", "user.created", old),
    ]);
    const before = await redis.get("r2:user:u-old");
    expect(before).toContain("gone@example.com");
    const report = await sweepRetention({
      redis,
      prefix: "r2",
      eventLog: new EventLog(redis, { prefix: "r2" }),
      queues: [],
      retentionMs: 7 * 24 * HOUR,
      logger,
    });
    expect(report.tombstones).toBe(1);
    const oldUser = JSON.parse((await redis.get("r2:user:u-old"))!);
    expect(oldUser).toEqual({
      id: "u-old",
      deleted: true,
      t: Date.parse(old),
      eventId: expect.any(String),
    });
    expect(await redis.get("r2:user:u-new")).toContain("recent@example.com");
    expect(await redis.get("r2:user:u-live")).toContain("live@example.com"); // not deleted
    // The tombstone still orders events: an older update cannot bring the user back.
    await store.applyEvents([
      user(
        "u-old",
        "gone@example.com",
        "user.updated",
        new Date(Date.parse(old) - 1).toISOString(),
      ),
    ]);
    expect(JSON.parse((await redis.get("r2:user:u-old"))!).deleted).toBe(true);
  });

  it("removes failed jobs and their events-stream copies once they are older than the retention", async () => {
    const connection = server.client();
    const queue = new Queue("retention-test", { connection, prefix: "r3" });
    const events = new QueueEvents("retention-test", { connection: server.client(), prefix: "r3" });
    const worker = new Worker("retention-test", () => {
      throw new Error("IONOS POST /um/users failed with HTTP 422: ada@example.com exists");
    }, { connection: server.client(), prefix: "r3" });
    try {
      await events.waitUntilReady();
      const job = await queue.add("user", { kind: "user", id: "u1" });
      await job.waitUntilFinished(events).catch(() => {});
      expect(await queue.getJobCounts("failed")).toEqual({ failed: 1 });
      const stream = await redis.xrange(queue.keys.events!, "-", "+");
      expect(JSON.stringify(stream)).toContain("ada@example.com");

      const keep = await sweepRetention({
        redis,
        prefix: "r3",
        eventLog: new EventLog(redis, { prefix: "r3" }),
        queues: [queue],
        retentionMs: HOUR,
        logger,
      });
      expect(keep.jobs).toBe(0); // younger than the retention: kept for the operator

      await new Promise((r) => setTimeout(r, 50));
      const report = await sweepRetention({
        redis,
        prefix: "r3",
        eventLog: new EventLog(redis, { prefix: "r3" }),
        queues: [queue],
        retentionMs: 10,
        logger,
      });
      expect(report.jobs).toBe(1);
      expect(await queue.getJobCounts("failed")).toEqual({ failed: 0 });
      const after = await redis.xrange(queue.keys.events!, "-", "+");
      expect(JSON.stringify(after)).not.toContain("ada@example.com");
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }
  });
});
