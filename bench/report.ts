/** Turns a benchmark run's results into tables: printed, and kept as Markdown beside the JSON. */
import type { IntakeResults, IntakeRun } from "./intake.ts";
import type { LimiterRun } from "./limiter.ts";
import type { Machine } from "./lib/machine.ts";
import { mib, ms, num } from "./lib/table.ts";
import type { IngestPathRun } from "./ingest_path.ts";
import type { QueuedPoint } from "./memory.ts";
import type { RedisScriptsResults, ScriptsRun } from "./redis_scripts.ts";
import type { ReplicaAcksRun } from "./replica_acks.ts";
import type { ScimLookupResults } from "./scim_lookup.ts";
import type { SyncResults } from "./sync.ts";
import type { CallKind } from "./lib/ionos_calls.ts";

export interface BenchResults {
  startedAt: string;
  totalSeconds: number;
  machine: Machine;
  /** Each part is absent when BENCH_ONLY left it out. */
  intake?: IntakeResults;
  /** The same load with different WORKER_CONCURRENCY and request timing. */
  sync?: SyncResults[];
  limiter?: LimiterRun[];
  queuedMemory?: QueuedPoint[];
  ingestPath?: IngestPathRun[];
  scim?: ScimLookupResults;
  replicaAcks?: ReplicaAcksRun[];
  redisScripts?: RedisScriptsResults;
}

export interface Table {
  title: string;
  header: string[];
  rows: string[][];
}

const ratio = (a: number, b: number) => (b > 0 ? `x${num(a / b, a / b < 0.1 ? 3 : 2)}` : "-");

function intakeRows(r: IntakeResults): string[][] {
  const rows: string[][] = [];
  const row = (name: string, run: IntakeRun, base: string, baseValue: number, mine: number) =>
    rows.push([
      name,
      num(run.requestsPerSec),
      num(run.eventsPerSec),
      ms(run.latencyP50Ms),
      ms(run.latencyP99Ms),
      base,
      num(baseValue),
      ratio(mine, baseValue),
    ]);
  const { intake, bareHono, bullmq } = r;
  row(
    "POST /events, 1 event",
    intake.single,
    "bare Hono, req/s",
    bareHono.single.requestsPerSec,
    intake.single.requestsPerSec,
  );
  row("", intake.single, "BullMQ add, jobs/s", bullmq.add.jobsPerSec, intake.single.eventsPerSec);
  row(
    "POST /events, 100 events",
    intake.batch,
    "bare Hono, req/s",
    bareHono.batch.requestsPerSec,
    intake.batch.requestsPerSec,
  );
  row(
    "",
    intake.batch,
    "BullMQ addBulk(100), jobs/s",
    bullmq.addBulk.jobsPerSec,
    intake.batch.eventsPerSec,
  );
  if (intake.scimUsers) {
    const s = intake.scimUsers;
    row(
      "SCIM POST /Users",
      s,
      "bare Hono, req/s",
      bareHono.single.requestsPerSec,
      s.requestsPerSec,
    );
    row("", s, "BullMQ add, jobs/s", bullmq.add.jobsPerSec, s.eventsPerSec);
  }
  return rows;
}

function baselineRows(r: IntakeResults): string[][] {
  const b = r.bareHono;
  const q = r.bullmq;
  return [
    [
      "bare Hono, 1 event/request",
      `${num(b.single.requestsPerSec)} req/s`,
      ms(b.single.latencyP50Ms),
      ms(b.single.latencyP99Ms),
      `server ${b.single.cpu.server}`,
    ],
    [
      "bare Hono, 100 events/request",
      `${num(b.batch.requestsPerSec)} req/s`,
      ms(b.batch.latencyP50Ms),
      ms(b.batch.latencyP99Ms),
      `server ${b.batch.cpu.server}`,
    ],
    [
      "BullMQ add",
      `${num(q.add.callsPerSec)} calls/s`,
      ms(round1(q.add.latencyP50Ms)),
      ms(round1(q.add.latencyP99Ms)),
      `redis ${q.add.cpu.redis}`,
    ],
    [
      "BullMQ addBulk(100)",
      `${num(q.addBulk.callsPerSec)} calls/s`,
      ms(round1(q.addBulk.latencyP50Ms)),
      ms(round1(q.addBulk.latencyP99Ms)),
      `redis ${q.addBulk.cpu.redis}`,
    ],
    [
      "intake, 1 event/request",
      `${num(r.intake.single.requestsPerSec)} req/s`,
      ms(r.intake.single.latencyP50Ms),
      ms(r.intake.single.latencyP99Ms),
      cpuText(r.intake.single),
    ],
    [
      "intake, 100 events/request",
      `${num(r.intake.batch.requestsPerSec)} req/s`,
      ms(r.intake.batch.latencyP50Ms),
      ms(r.intake.batch.latencyP99Ms),
      cpuText(r.intake.batch),
    ],
    ...(r.intake.scimUsers
      ? [[
        "SCIM POST /Users",
        `${num(r.intake.scimUsers.requestsPerSec)} req/s`,
        ms(r.intake.scimUsers.latencyP50Ms),
        ms(r.intake.scimUsers.latencyP99Ms),
        cpuText(r.intake.scimUsers),
      ]]
      : []),
  ];
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const cpuText = (run: IntakeRun) => `intake ${run.cpu.server}, redis ${run.cpu.redis}`;

function syncRows(runs: SyncResults[]): string[][] {
  const row = (name: string, cell: (s: SyncResults) => string) => [name, ...runs.map(cell)];
  return [
    row("IONOS request timing", (s) => s.profile ?? "fast"),
    row(
      "initial load",
      (s) => `${num(s.users)} users, ${num(s.groups)} groups, ${num(s.memberships)} memberships`,
    ),
    row(
      "IONOS rate limit",
      (s) => `simulator ${s.simRatePerSec}/s, workers ${s.serviceRatePerSec}/s`,
    ),
    row(
      "converged after",
      (s) =>
        s.converged
          ? `${num(s.convergeSeconds, 1)} s`
          : `NO (${num(s.convergeSeconds)} s): ${s.problems.join("; ")}`,
    ),
    row(
      "wall time / floor",
      (s) =>
        s.floorSeconds
          ? `x${num(s.convergeSeconds / s.floorSeconds, 2)} (floor ${num(s.floorSeconds, 1)} s)`
          : "-",
    ),
    row("events accepted in", (s) => `${num(s.loadSeconds, 1)} s`),
    row("IONOS calls", (s) => num(s.ionosCalls)),
    row(
      "minimum calls",
      (s) =>
        `${num(s.minimumCalls.total)} (${num(s.minimumCalls.writes)} writes + ${
          num(s.minimumCalls.polls)
        } polls + ${num(s.minimumCalls.reads)} lookups)`,
    ),
    row(
      "calls per change",
      (s) =>
        `${num(s.ionosCalls / s.changes, 2)} (minimum ${num(s.minimumCalls.total / s.changes, 2)})`,
    ),
    row(
      "achieved IONOS rate",
      (s) => `${num(s.achievedPerSec, 1)}/s = ${num(s.shareOfAllowed * 100)}% of allowed`,
    ),
    row("polls per write", (s) => num(s.pollsPerWrite ?? 0, 2)),
    row("busiest second", (s) => `${s.maxPerSecond} calls`),
    row("429 answers", (s) => num(s.rateLimited)),
    row("sync jobs run", (s) => `${num(s.syncJobs)} for ${num(s.users + s.groups)} entities`),
    row("failed jobs", (s) => num(s.failedJobs)),
    row("peak RSS intake", (s) => mib(s.memory.intake.peakRss)),
    row("peak RSS worker", (s) => mib(s.memory.worker.peakRss)),
    row("peak Redis used_memory", (s) => mib(s.memory.redisPeakUsed ?? 0)),
  ];
}

function callRows(runs: SyncResults[]): string[][] {
  const kinds = [...new Set(runs.flatMap((r) => Object.keys(r.byKind)))] as CallKind[];
  const count = (r: SyncResults, k: CallKind) => r.byKind[k] ?? 0;
  return kinds.sort((a, b) => count(runs[0]!, b) - count(runs[0]!, a))
    .map((k) => [k, ...runs.map((r) => num(count(r, k)))]);
}

function scimRows(r: ScimLookupResults): string[][] {
  const kinds = ["id", "userName", "externalId", "emails.value", "emails[value]", "scan"];
  const first = r.points[0]!;
  return r.points.flatMap((p) =>
    kinds.map((k) => {
      const v = p.lookups[k]!;
      const base = p.lookups.id!;
      return [
        num(p.users),
        k === "id" ? "id eq (baseline)" : k === "scan" ? "externalId co (unindexed)" : `${k} eq`,
        ms(round1(v.p50Ms)),
        ms(round1(v.p99Ms)),
        ratio(v.p50Ms, base.p50Ms),
        ratio(v.p50Ms, first.lookups[k]!.p50Ms),
      ];
    })
  );
}

/** Time per script and per plain command; shares of their sum (script time includes its commands). */
function scriptTimeRows(run: ScriptsRun): string[][] {
  const rows = [
    ...run.scripts,
    ...run.commands.map((c) => ({ ...c, name: `command ${c.name}` })),
  ];
  const total = rows.reduce((sum, r) => sum + r.micros, 0);
  const line = (name: string, calls: number, micros: number) => [
    name,
    num(calls / run.requests, 2),
    num(micros / run.requests, micros / run.requests < 100 ? 1 : 0),
    num(micros / run.requests / run.eventsPerRequest, 1),
    `${num((100 * micros) / total, 1)}%`,
  ];
  return [
    ...rows.map((r) => line(r.name, r.calls, r.micros)),
    line("total", rows.reduce((sum, r) => sum + r.calls, 0), total),
  ];
}

/** Commands run by scripts, the busiest first; shares of all script time. */
function insideScriptRows(run: ScriptsRun, top = 8): string[][] {
  const scriptMicros = run.scripts.reduce((sum, r) => sum + r.micros, 0);
  return run.insideScripts.slice(0, top).map((c) => [
    c.name,
    num(c.calls / run.requests, 2),
    num(c.micros / run.requests / run.eventsPerRequest, 1),
    `${num((100 * c.micros) / scriptMicros, 1)}%`,
  ]);
}

export function reportTables(r: BenchResults): Table[] {
  const m = r.machine;
  const tables: Table[] = [{
    title: "Machine",
    header: ["", ""],
    rows: [
      ["CPU", `${m.cpuModel}, nproc ${m.nproc}`],
      ["memory", `${m.memoryGiB} GiB`],
      ["runtime", `Deno ${m.deno} (V8 ${m.v8}), Redis ${m.redis}, Linux ${m.kernel}`],
    ],
  }];
  if (r.intake) {
    tables.push({
      title:
        `Intake: ${r.intake.connections} connections, ${r.intake.durationSec} s per run, ratios to baselines`,
      header: [
        "workload",
        "req/s",
        "events/s",
        "p50 ms",
        "p99 ms",
        "baseline",
        "baseline value",
        "ratio",
      ],
      rows: intakeRows(r.intake),
    }, {
      title: "Every intake run and baseline (CPU = busy cores of that process)",
      header: ["run", "throughput", "p50 ms", "p99 ms", "CPU"],
      rows: baselineRows(r.intake),
    });
  }
  if (r.sync) {
    const label = (s: SyncResults) => `${s.profile ?? "fast"}, concurrency ${s.workerConcurrency}`;
    tables.push({
      title: "Sync: fresh contract, initial load",
      header: ["", ...r.sync.map(label)],
      rows: syncRows(r.sync),
    }, {
      title: "Sync: IONOS calls by kind",
      header: ["kind", ...r.sync.map(label)],
      rows: callRows(r.sync),
    });
  }
  if (r.limiter) {
    tables.push({
      title: "Shared rate limiter alone (RedisRateLimiter.acquire)",
      header: ["configured/s", "callers", "granted/s", "share"],
      rows: r.limiter.map((l) => [
        num(l.ratePerSec),
        String(l.callers),
        num(l.grantedPerSec, 1),
        `${num((100 * l.grantedPerSec) / l.ratePerSec)}%`,
      ]),
    });
  }
  if (r.replicaAcks) {
    const base = (n: number) =>
      r.replicaAcks!.find((x) => x.callers === n && x.replicas === 0)?.eventsPerSec ?? 0;
    tables.push({
      title: "Store write (applyEvents) with replica confirmations (REDIS_WAIT_REPLICAS)",
      header: ["replicas", "callers", "events/s", "vs 0 replicas", "p50", "p99"],
      rows: r.replicaAcks.map((x) => [
        String(x.replicas),
        String(x.callers),
        num(x.eventsPerSec),
        ratio(x.eventsPerSec, base(x.callers)),
        `${num(x.p50Ms, 2)} ms`,
        `${num(x.p99Ms, 2)} ms`,
      ]),
    });
  }
  if (r.redisScripts) {
    const { connections } = r.redisScripts;
    for (const run of r.redisScripts.runs) {
      const workload = `POST /events, ${run.eventsPerRequest} event${
        run.eventsPerRequest === 1 ? "" : "s"
      }/request`;
      tables.push({
        title:
          `Redis time per intake request by script, ${workload}: ${
            num(run.requestsPerSec)
          } req/s in a ${
            num(run.windowSec, 1)
          } s window, ${connections} connections (SLOWLOG threshold 0 inflates ` +
          `all entries alike; ${num(run.entries)} entries, ${num(run.lost)} lost)`,
        header: ["script / command", "calls/request", "µs/request", "µs/event", "share"],
        rows: scriptTimeRows(run),
      }, {
        title: `Commands run inside those scripts, ${workload} (counted in their script above)`,
        header: ["command", "calls/request", "µs/event", "share of script time"],
        rows: insideScriptRows(run),
      });
    }
  }
  if (r.ingestPath) {
    const base = (size: number) =>
      r.ingestPath!.find((x) => x.eventsPerCall === size && x.variant !== "ingestEvents");
    tables.push({
      title: "Ingest path in process (no HTTP): CPU of this process per call, median of rounds",
      header: [
        "events per call",
        "variant",
        "µs CPU per call",
        "ms wall per call",
        "CPU vs before",
      ],
      rows: r.ingestPath.map((x) => [
        num(x.eventsPerCall),
        x.variant,
        num(x.cpuMicrosPerCall),
        num(x.wallMsPerCall, 2),
        ratio(x.cpuMicrosPerCall, base(x.eventsPerCall)?.cpuMicrosPerCall ?? 0),
      ]),
    });
  }
  if (r.queuedMemory) {
    tables.push({
      title: "Intake memory vs queued jobs (no worker running, intake warmed up first)",
      header: [
        "queued jobs",
        "intake RSS",
        "highest while filling",
        "vs first",
        "process peak RSS",
        "Redis used_memory",
      ],
      rows: r.queuedMemory.map((p) => [
        num(p.queuedJobs),
        mib(p.intakeRss),
        mib(p.intakeSegmentPeakRss),
        ratio(p.intakeSegmentPeakRss, r.queuedMemory![0]!.intakeSegmentPeakRss),
        mib(p.intakePeakRss),
        mib(p.redisUsedMemory),
      ]),
    });
  }
  if (r.scim) {
    const c = r.scim.concurrent;
    tables.push({
      title: "SCIM lookups: GET /Users?filter=…, sequential, against the intake in its own process",
      header: ["users", "filter", "p50 ms", "p99 ms", "p50 vs id eq", "p50 vs smallest size"],
      rows: scimRows(r.scim),
    }, {
      title: "SCIM: concurrent unindexed filters",
      header: ["", ""],
      rows: [
        ["load", `${c.filters} filters at once, ${num(c.users)} users stored`],
        ["answered in", `${num(c.seconds, 1)} s`],
        [
          "intake RSS",
          `${mib(c.intakeRssBefore)} before (peak so far ${
            mib(c.intakePeakRssBefore ?? 0)
          }), peak ${mib(c.intakePeakRss)}`,
        ],
      ],
    });
  }
  return tables;
}
