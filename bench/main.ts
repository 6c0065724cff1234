/**
 * `npx deno task bench`: the whole benchmark in one run (about seven minutes on two cores).
 * Prints the tables and writes bench/results/<time>.json, plus latest.json and latest.md.
 *
 * Each measured server runs in its own process, driven from another over loopback. Redis is a
 * private redis-server without persistence, shared by the intake and its BullMQ baseline.
 *
 * BENCH_QUICK=1 shortens every part, to check the benchmark itself works.
 */
import { startRedis } from "../test/helpers/redis.ts";
import { benchIntake } from "./intake.ts";
import { benchLimiter } from "./limiter.ts";
import { describeMachine } from "./lib/machine.ts";
import { markdownTable, table } from "./lib/table.ts";
import { benchQueuedMemory } from "./memory.ts";
import { type BenchResults, reportTables } from "./report.ts";
import { benchSync } from "./sync.ts";

const QUICK = Deno.env.get("BENCH_QUICK") === "1";
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
try {
  log("\n== intake ==");
  const intake = await benchIntake({
    redisUrl: redis.url,
    redis: client,
    connections: 10,
    warmupSec: QUICK ? 1 : 2,
    durationSec: QUICK ? 2 : 8,
    log,
  });

  log("\n== sync ==");
  const sync = [];
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

  log("\n== rate limiter ==");
  const limiter = await benchLimiter(client, 95, [1, 4, 16], QUICK ? 1 : 4);

  log("\n== intake memory vs queued jobs ==");
  const queuedMemory = await benchQueuedMemory(
    redis.url,
    client,
    QUICK ? [1_000, 5_000] : [1_000, 10_000, 100_000],
    log,
  );

  const results: BenchResults = {
    startedAt,
    totalSeconds: (performance.now() - started) / 1000,
    machine,
    intake,
    sync,
    limiter,
    queuedMemory,
  };
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
