/**
 * The enqueue transaction of `ingestEvents` keeps the outbox guarantee: Redis does not roll a
 * MULTI back, so the outbox clean-up in it must only take effect when the job adds ran. And a
 * failed event-log append in it must not fail the ingest.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type { Queue } from "bullmq";
import { type IngestEventLog, ingestEvents } from "../../src/intake/ingest.ts";
import { EventLog } from "../../src/ops/oplog/event_log.ts";
import { createSyncQueue, type SyncJobData } from "../../src/queue/sync_queue.ts";
import { attachTargetQueues, createTargetQueue } from "../../src/queue/target_queue.ts";
import { enqueueSyncAtomically, EnqueueTimeoutError } from "../../src/queue/atomic_enqueue.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { parseEventBatch } from "../../src/events/event.ts";
import { sweepOutbox } from "../../workers/outbox_sweeper.ts";
import { userEvent } from "../_support/harness.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
let client: Redis;
let queue: Queue<SyncJobData>;
let store: WantedStateStore;
const logFailures: unknown[] = [];
let eventLog: IngestEventLog;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  queue = createSyncQueue(client);
  store = new WantedStateStore(client);
  eventLog = { log: new EventLog(client), onFailed: (error) => logFailures.push(error) };
});
afterAll(async () => {
  await queue.close();
  await redis.stop();
});
beforeEach(async () => {
  await client.flushall();
  logFailures.length = 0;
});

const events = (id: string) => {
  const parsed = parseEventBatch(userEvent("user.created", id, `${id}@example.com`));
  if (!parsed.success) throw new Error("bad test event");
  return parsed.events;
};

describe.each([
  ["on the queue's connection", false],
  ["on a connection of its own", true],
])("ingestEvents() transaction %s", (_, own) => {
  // The service sends ingest transactions on a connection of their own (no BullMQ scripts
  // defined on it, see AtomicEnqueueSteps.connection); both ways keep the same guarantees.
  let txClient: Redis;
  beforeAll(() => {
    txClient = redis.client();
  });
  afterAll(() => {
    txClient.disconnect();
  });
  const deps = () => ({
    store,
    queue,
    eventLog,
    ...(own ? { transactionConnection: txClient } : {}),
  });
  it("leaves the entity in the outbox when its add did not run, and the sweep enqueues it", async () => {
    // BullMQ's add starts with INCR of its job counter: a counter that is not a number makes
    // every add fail before it writes anything, after the store script has run.
    await client.set("bull:ionos-sync:id", "not-a-number");
    await expect(ingestEvents(deps(), events("ob-1"), { source: "events" }))
      .rejects.toThrow(/not an integer/);
    expect(await client.zscore("sync:outbox", "user:ob-1")).not.toBeNull();
    expect(await client.exists("sync:outbox:add-mark")).toBe(0);
    expect(await client.exists("bull:ionos-sync:de:user:ob-1")).toBe(0);

    await client.del("bull:ionos-sync:id");
    expect(await sweepOutbox(store, queue, 0)).toBe(1);
    const jobId = await queue.getDeduplicationJobId("user:ob-1");
    expect((await queue.getJob(jobId!))?.data).toEqual({ kind: "user", id: "ob-1" });
    expect(await client.zcard("sync:outbox")).toBe(0);
  });

  it("leaves the entity in the outbox when only another target's add did not run", async () => {
    const contabo = createTargetQueue(client, "contabo");
    attachTargetQueues(queue, [contabo]);
    try {
      await client.set("bull:target-sync-contabo:id", "not-a-number");
      await expect(ingestEvents(deps(), events("ob-t"), { source: "events" }))
        .rejects.toThrow(/not an integer/);
      // IONOS's add ran; the outbox keeps the entity all the same, for the sweep to fan out.
      expect(await client.exists("bull:ionos-sync:de:user:ob-t")).toBe(1);
      expect(await client.zscore("sync:outbox", "user:ob-t")).not.toBeNull();

      await client.del("bull:target-sync-contabo:id");
      expect(await sweepOutbox(store, queue, 0)).toBe(1);
      expect(await contabo.getJobCounts("wait")).toEqual({ wait: 1 });
    } finally {
      attachTargetQueues(queue, []);
      await contabo.close();
    }
  });

  it("clears the outbox and names the job in the log when the adds ran", async () => {
    await ingestEvents(deps(), events("ob-2"), { source: "events" });
    expect(await client.zcard("sync:outbox")).toBe(0);
    const [entry] = await eventLog.log.list({ entity: "user:ob-2" });
    expect(entry?.jobs).toEqual({ "user:ob-2": await queue.getDeduplicationJobId("user:ob-2") });
    expect(logFailures).toEqual([]);
  });

  it("keeps an entry a newer change put back after the stamp", async () => {
    // Another intake's change lands after ours stored (score in the future): its own clean-up
    // will clear it, not ours.
    const later = Date.now() + 60_000;
    const base = deps();
    await ingestEvents(
      {
        ...base,
        store: Object.assign(Object.create(store), {
          applyEvents: async (...args: Parameters<WantedStateStore["applyEvents"]>) => {
            const r = await store.applyEvents(...args);
            await client.zadd("sync:outbox", later, "user:ob-3");
            return r;
          },
        }),
      },
      events("ob-3"),
      { source: "events" },
    );
    expect(Number(await client.zscore("sync:outbox", "user:ob-3"))).toBe(later);
  });

  it("answers success when only the event-log append failed, with the outbox cleared", async () => {
    await client.set("sync:eventlog", "not a stream");
    const result = await ingestEvents(deps(), events("ob-4"), {
      source: "events",
    });
    expect(result).toEqual({ accepted: 1, duplicates: 0 });
    expect(logFailures).toHaveLength(1);
    expect(String(logFailures[0])).toMatch(/WRONGTYPE/);
    expect(await client.zcard("sync:outbox")).toBe(0);
    expect(await queue.getDeduplicationJobId("user:ob-4")).toBeTruthy();
  });

  it("gives up after timeoutMs when Redis does not answer, with one timer for the transaction", async () => {
    // A connection without ioredis' per-command timeout, as the service's ingest queue has.
    const pauser = redis.client();
    await pauser.call("CLIENT", "PAUSE", "800", "ALL");
    const started = Date.now();
    const connection = own ? { connection: txClient } : {};
    await expect(enqueueSyncAtomically(queue, ["user:slow"], { timeoutMs: 150, ...connection }))
      .rejects.toBeInstanceOf(EnqueueTimeoutError);
    expect(Date.now() - started).toBeLessThan(700);
    // The transaction still runs once Redis answers, as with ioredis' own timeout: the caller
    // had a 503 and delivers again, a duplicate of a change that is stored and queued.
    await new Promise((r) => setTimeout(r, 900));
    expect(await queue.getDeduplicationJobId("user:slow")).toBeTruthy();
  });
});

describe("ingestEvents() on a transaction connection of its own", () => {
  it("defines only its own scripts on that connection, none of BullMQ's", async () => {
    const txClient = redis.client();
    const deps = { store, queue, eventLog, transactionConnection: txClient };
    await ingestEvents(deps, events("ob-5"), { source: "events" });
    expect(await queue.getDeduplicationJobId("user:ob-5")).toBeTruthy();
    const defined = Object.keys((txClient as unknown as { scriptsSet: object }).scriptsSet);
    expect(defined.length).toBeGreaterThan(0);
    expect(defined.filter((name) => !name.startsWith("sync"))).toEqual([]);
    txClient.disconnect();
  });
});
