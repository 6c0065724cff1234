/**
 * The ingest path alone, in this process, without HTTP: `ingestEvents` (two Redis round trips:
 * the store script, then one transaction with the job adds, the outbox clean-up and the
 * event-log append) against its baseline in the same run, the same steps one round trip each
 * as the intake made them before issue 9 (store script, `addBulk`, outbox clean-up, event-log
 * append) on a connection with ioredis' per-command timeout. Reports CPU time of this process
 * per call, which a busy machine disturbs less than throughput; the variants alternate.
 */
import process from "node:process";
import { Redis } from "ioredis";
import { parseEventBatch, type SyncEvent } from "../src/events/event.ts";
import { ingestEvents } from "../src/intake/ingest.ts";
import { EventLog } from "../src/ops/oplog/event_log.ts";
import { createSyncQueue, enqueueSync } from "../src/queue/sync_queue.ts";
import { WantedStateStore } from "../src/store/wanted_state.ts";

export interface IngestPathRun {
  variant: "four round trips (before)" | "ingestEvents";
  eventsPerCall: number;
  calls: number;
  /** Median over the rounds of CPU µs of this process per call. */
  cpuMicrosPerCall: number;
  /** Median over the rounds of wall ms per call. */
  wallMsPerCall: number;
}

export interface IngestPathOptions {
  redisUrl: string;
  /** Rounds per variant and size; the variants alternate. @default 4 */
  rounds?: number;
  /** Calls per round for 1 and for 100 events per call. @default [2000, 60] */
  calls?: [number, number];
  log: (line: string) => void;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchIngestPath(o: IngestPathOptions): Promise<IngestPathRun[]> {
  const { rounds = 4, calls = [2000, 60] } = o;
  const connect = (commandTimeout?: number) =>
    new Redis(o.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      ...(commandTimeout ? { commandTimeout } : {}),
    });
  // As the intake wires them: before, one connection with a 5 s timeout per command; now the
  // ingest connection has none and the transaction one.
  const before = connect(5_000);
  const now = connect();
  const txConnection = connect();
  await Promise.all(
    [before, now, txConnection].map((r) => new Promise((ok) => r.once("ready", ok))),
  );
  const queues = [createSyncQueue(before), createSyncQueue(now)] as const;
  const stores = [new WantedStateStore(before), new WantedStateStore(now)] as const;
  const logs = [new EventLog(before), new EventLog(now)] as const;
  let n = 0;
  const batch = (size: number): SyncEvent[] => {
    const parsed = parseEventBatch({
      events: Array.from({ length: size }, () => {
        const id = `ip-${n++}`;
        return {
          id: `e-${id}`,
          type: "user.created",
          data: { id, userName: `${id}@example.com`, emails: [{ value: `${id}@example.com` }] },
        };
      }),
    });
    if (!parsed.success) throw new Error("bench events do not validate");
    return parsed.events;
  };
  const variants = {
    "four round trips (before)": async (events: SyncEvent[]) => {
      const result = await stores[0].applyEvents(events);
      const jobs = await enqueueSync(queues[0], result.entities);
      await stores[0].clearOutbox(result.entities, result.stamp);
      await logs[0].append(events, result, { source: "events" }, { jobs });
    },
    ingestEvents: async (events: SyncEvent[]) => {
      await ingestEvents(
        {
          store: stores[1],
          queue: queues[1],
          // As the service wires it: transactions on a connection without BullMQ's scripts.
          transactionConnection: txConnection,
          enqueueTimeoutMs: 5_000,
          eventLog: { log: logs[1], onFailed: (e) => o.log(`  event log failed: ${e}`) },
        },
        events,
        { source: "events" },
      );
    },
  };
  const out: IngestPathRun[] = [];
  try {
    await before.flushall();
    for (const [size, count] of [[1, calls[0]], [100, calls[1]]] as const) {
      const samples = new Map<string, { cpu: number[]; wall: number[] }>();
      for (let round = 0; round < rounds; round++) {
        for (const [name, run] of Object.entries(variants)) {
          const inputs = Array.from({ length: count }, () => batch(size));
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          for (const events of inputs) await run(events);
          const wall = (performance.now() - t0) / count;
          const cpu = process.cpuUsage(cpu0);
          const s = samples.get(name) ?? { cpu: [], wall: [] };
          s.cpu.push((cpu.user + cpu.system) / count);
          s.wall.push(wall);
          samples.set(name, s);
        }
      }
      for (const [name, s] of samples) {
        const run: IngestPathRun = {
          variant: name as IngestPathRun["variant"],
          eventsPerCall: size,
          calls: count * rounds,
          cpuMicrosPerCall: median(s.cpu),
          wallMsPerCall: median(s.wall),
        };
        out.push(run);
        o.log(
          `  ${name}, ${size} event(s) per call: ${run.cpuMicrosPerCall.toFixed(0)} µs CPU, ` +
            `${run.wallMsPerCall.toFixed(2)} ms wall per call (median of ${rounds})`,
        );
      }
    }
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    await before.flushall();
    before.disconnect();
    now.disconnect();
    txConnection.disconnect();
  }
  return out;
}
