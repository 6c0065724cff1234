/**
 * `npx deno task bench`: the whole benchmark in one run (about 25 minutes on two cores, 13 of
 * them the realistic sync).
 * Prints the tables and writes bench/results/<time>.json, plus latest.json and latest.md.
 *
 * Each measured server runs in its own process, driven from another over loopback. Redis is a
 * private redis-server without persistence, shared by the intake and its BullMQ baseline.
 *
 * BENCH_QUICK=1 shortens every part, to check the benchmark itself works.
 * BENCH_REALISTIC_CONCURRENCY / BENCH_10K_CONCURRENCY set WORKER_CONCURRENCY of the realistic
 * sync runs (default 8 and 32).
 * BENCH_ONLY=<part,...> runs only some parts: intake, ingest-path, sync, realistic, limiter,
 * memory, scim, realistic-10k (10,000 users at 50 requests/s, about 25 minutes: only when
 * named), replica-acks (the store write with and without REDIS_WAIT_REPLICAS: only when
 * named) and redis-scripts (Redis time per intake request by script, from SLOWLOG).
 */
import { startRedis } from "../test/_support/redis.ts";
import { benchIngestPath } from "./ingest_path.ts";
import { benchIntake } from "./intake.ts";
import { benchLimiter } from "./limiter.ts";
import { benchRedisScripts } from "./redis_scripts.ts";
import { benchReplicaAcks } from "./replica_acks.ts";
import { describeMachine } from "./lib/machine.ts";
import { markdownTable, table } from "./lib/table.ts";
import { benchQueuedMemory } from "./memory.ts";
import { type BenchResults, reportTables } from "./report.ts";
import { benchScimLookup } from "./scim_lookup.ts";
import { benchSync } from "./sync.ts";

const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const PARTS = [
  "intake",
  "ingest-path",
  "sync",
  "realistic",
  "limiter",
  "memory",
  "scim",
  "realistic-10k",
  "replica-acks",
  "redis-scripts",
] as const;
const only = Deno.env.get("BENCH_ONLY")?.split(",").map((p) => p.trim()).filter(Boolean);
for (const p of only ?? []) {
  if (!(PARTS as readonly string[]).includes(p)) {
    throw new RangeError(`BENCH_ONLY: unknown part '${p}' (known: ${PARTS.join(", ")})`);
  }
}
const runs = (part: typeof PARTS[number]) =>
  only ? only.includes(part) : part !== "realistic-10k" && part !== "replica-acks";
const RESULTS = new URL("./results/", import.meta.url).pathname;
const log = (line: string) => console.log(line);

const started = performance.now();
const startedAt = new Date().toISOString();
const machine = await describeMachine();
log(
  `machine: ${machine.cpuModel}, nproc ${machine.nproc}, ${machine.memoryGiB} GiB, Deno ${machine.deno}`,
);

const redis = await startRedis();
const client = redis.client();
/** The intake benchmarks' load, but for how long each measures. */
const intakeLoad = {
  redisUrl: redis.url,
  redis: client,
  connections: 10,
  warmupSec: QUICK ? 1 : 2,
  log,
};
try {
  const results: BenchResults = { startedAt, totalSeconds: 0, machine };
  if (runs("intake")) {
    log("\n== intake ==");
    results.intake = await benchIntake({ ...intakeLoad, durationSec: QUICK ? 2 : 8 });
  }

  if (runs("redis-scripts")) {
    log("\n== Redis time per intake request, by script (SLOWLOG, threshold 0) ==");
    results.redisScripts = await benchRedisScripts({
      ...intakeLoad,
      durationSec: QUICK ? 1.5 : 4,
    });
  }

  if (runs("ingest-path")) {
    log("\n== ingest path, in process: two round trips vs the four of before ==");
    results.ingestPath = await benchIngestPath({
      redisUrl: redis.url,
      ...(QUICK ? { rounds: 2, calls: [200, 6] as [number, number] } : {}),
      log,
    });
  }

  const sync = [];
  if (runs("sync")) {
    log("\n== sync, fast profile (20 ms requests) ==");
    // 16 jobs at once uses the IONOS budget; 4 is the default, for comparison.
    for (const workerConcurrency of [16, 4]) {
      sync.push(
        await benchSync({
          redisUrl: redis.url,
          redis: client,
          users: QUICK ? 100 : 1000,
          groups: QUICK ? 10 : 50,
          groupsPerUser: 5,
          simRatePerSec: 100,
          serviceRatePerSec: 95,
          workerConcurrency,
          timeoutSec: 400,
          log,
        }),
      );
    }
  }
  if (runs("realistic")) {
    log("\n== sync, realistic profile (median 3 s requests, some FAILED) ==");
    sync.push(
      await benchSync({
        redisUrl: redis.url,
        redis: client,
        users: QUICK ? 100 : 1000,
        groups: QUICK ? 10 : 50,
        groupsPerUser: 5,
        simRatePerSec: 10,
        serviceRatePerSec: 10,
        // A job gives its slot back while its requests run (workers/request_steps.ts): a slot
        // is busy only while calls are made, so a few keep 10 writes/s going (64 were needed
        // while jobs held their slot for the 3 s median).
        workerConcurrency: Number(Deno.env.get("BENCH_REALISTIC_CONCURRENCY") ?? 8),
        timeoutSec: QUICK ? 600 : 3600,
        requestTiming: "realistic",
        log,
      }),
    );
  }
  if (runs("realistic-10k")) {
    log("\n== sync, realistic profile, 10,000 users ==");
    // 70,200 calls at least: 50/s lets it finish within 30 minutes (floor 23.5 min). Jobs give
    // their slot back while requests run, so the slots only need to keep 50 calls/s busy.
    sync.push(
      await benchSync({
        redisUrl: redis.url,
        redis: client,
        users: 10_000,
        groups: 100,
        groupsPerUser: 5,
        simRatePerSec: 50,
        serviceRatePerSec: 50,
        workerConcurrency: Number(Deno.env.get("BENCH_10K_CONCURRENCY") ?? 32),
        timeoutSec: 3600,
        requestTiming: "realistic",
        log,
      }),
    );
  }
  if (sync.length) results.sync = sync;

  if (runs("limiter")) {
    log("\n== rate limiter ==");
    results.limiter = await benchLimiter(client, 95, [1, 4, 16], QUICK ? 1 : 4);
  }

  if (runs("memory")) {
    log("\n== intake memory vs queued jobs ==");
    results.queuedMemory = await benchQueuedMemory(
      redis.url,
      client,
      QUICK ? [1_000, 5_000] : [1_000, 10_000, 100_000],
      log,
    );
  }

  if (runs("scim")) {
    log("\n== SCIM lookups vs stored users ==");
    results.scim = await benchScimLookup({
      redisUrl: redis.url,
      redis: client,
      sizes: QUICK ? [1_000, 5_000] : [1_000, 10_000, 100_000],
      samples: QUICK ? 50 : 300,
      scanSamples: QUICK ? 3 : 5,
      concurrentScans: 100,
      log,
    });
  }

  if (runs("replica-acks")) {
    log("\n== store write with and without a replica's confirmation (Redis WAIT) ==");
    results.replicaAcks = await benchReplicaAcks([1, 16], QUICK ? 1 : 5, log);
  }

  results.totalSeconds = (performance.now() - started) / 1000;
  const tables = reportTables(results);
  for (const t of tables) log(`\n${t.title}\n${table(t.header, t.rows)}`);

  await Deno.mkdir(RESULTS, { recursive: true });
  const json = JSON.stringify(results, null, 2);
  const stamp = startedAt.replace(/[:.]/g, "-");
  await Deno.writeTextFile(`${RESULTS}${stamp}.json`, json);
  await Deno.writeTextFile(`${RESULTS}latest.json`, json);
  await Deno.writeTextFile(
    `${RESULTS}latest.md`,
    tables.map((t) => `### ${t.title}\n\n${markdownTable(t.header, t.rows)}\n`).join("\n"),
  );
  log(`\nresults: bench/results/${stamp}.json (${Math.round(results.totalSeconds)} s in all)`);
} finally {
  await redis.stop();
}
