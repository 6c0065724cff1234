/**
 * Where Redis spends its time per intake request, by script: the intake (`--role api`, in its
 * own process) under autocannon load with 1-event and 100-event bodies, while Redis logs every
 * command in its SLOWLOG (threshold 0). Script calls (EVALSHA, EVAL) are named by the SHA-1 of
 * the scripts we know: ours (store, outbox, event log, console activity) and BullMQ's.
 *
 * Redis 7 also logs each command a script runs, from the script's own client (address "?:0"):
 * those are counted inside their script and reported apart, by command name.
 *
 * The window lies inside one steady load (warm-up before, a tail after); requests in it are
 * counted from the log itself (one enqueue MULTI per request). Threshold 0 slows every command
 * (it is logged), so compare shares rather than absolute microseconds.
 */
import { createHash } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { ACTIVITY_LUA } from "../src/console/activity.ts";
import { EVENT_LOG_LUA } from "../src/ops/oplog/event_log.ts";
import { guardLuaKeys } from "../src/store/lua_key_guard.ts";
import { STORE_LUA } from "../src/store/wanted_state.ts";
import { runScript } from "./lib/child.ts";
import { EVENTS_TOKEN, type IntakeLoadOptions, spawnIntake } from "./lib/intake_service.ts";
import { BATCH_SIZE, type BodyKind } from "./lib/payloads.ts";
import type { LoadConfig, LoadResult } from "./load_client.ts";

/** Time Redis logged for one script, or one command name. */
export interface TimeRow {
  name: string;
  calls: number;
  micros: number;
}

export interface ScriptsRun {
  eventsPerRequest: number;
  /**
   * Requests Redis served in the window: the intake's enqueue transactions (one MULTI per
   * request), counted in the log itself, so requests cut by the window's ends do not skew it.
   */
  requests: number;
  requestsPerSec: number;
  windowSec: number;
  /** Script calls by script, biggest first. */
  scripts: TimeRow[];
  /** Commands sent by clients themselves (not from a script), by name. */
  commands: TimeRow[];
  /** Commands run inside scripts, by name: already counted in their script's time. */
  insideScripts: TimeRow[];
  /** SLOWLOG entries read, and entries lost (the log was full before a read). */
  entries: number;
  lost: number;
}

export interface RedisScriptsResults {
  connections: number;
  durationSec: number;
  runs: ScriptsRun[];
}

/** The client name of our own SLOWLOG reads, whose entries are left out. */
const ADMIN_NAME = "bench-slowlog";
/** Redis keeps this much of each argument in a SLOWLOG entry (SLOWLOG_ENTRY_MAX_STRING). */
const SLOWLOG_ARG_CHARS = 128;
/** Entries the log keeps: 100-event requests make about 2,000 each (most inside scripts). */
const SLOWLOG_MAX_LEN = 1_000_000;
/** Load after the window, so it lasts past the window's end. */
const TAIL_SEC = 1;

const sleep = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000));

/**
 * Starts the intake on `redisUrl`, then per workload (1 event, then 100 per request): a fresh
 * Redis, a warm-up, a SLOWLOG window of `durationSec`, and Redis' time summed by script.
 */
export async function benchRedisScripts(o: IntakeLoadOptions): Promise<RedisScriptsResults> {
  const names = await scriptNames(o.redisUrl);
  const admin = new Redis(o.redisUrl, { connectionName: ADMIN_NAME, maxRetriesPerRequest: null });
  const api = await spawnIntake(o.redisUrl);
  let run = 0;
  const load = (body: BodyKind, seconds: number) =>
    runScript<LoadResult>(
      "load_client.ts",
      {
        url: api.url!,
        path: "/events",
        connections: o.connections,
        warmupSec: 0,
        durationSec: seconds,
        body,
        headers: { "content-type": "application/json", authorization: `Bearer ${EVENTS_TOKEN}` },
        tag: `s${run++}`,
      } satisfies LoadConfig,
    );
  try {
    const runs: ScriptsRun[] = [];
    for (const body of ["event", "batch"] as const) {
      await o.redis.flushall();
      // One load across the warm-up, the window and a tail, so the window sees steady load only:
      // no connections opening, no requests cut off at its ends.
      const loading = load(body, o.warmupSec + o.durationSec + TAIL_SEC);
      loading.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
      await sleep(o.warmupSec);
      const log = new SlowlogWindow(admin);
      await log.open();
      const began = performance.now();
      await sleep(o.durationSec);
      const windowSec = (performance.now() - began) / 1000;
      const entries = await log.close();
      const result = await loading;
      const r = summarize(entries.list, names, windowSec, body === "batch" ? BATCH_SIZE : 1);
      r.lost = entries.lost;
      runs.push(r);
      o.log(
        `  ${r.eventsPerRequest} event(s)/request: ${r.requestsPerSec.toFixed(0)} req/s in the ` +
          `window (${
            result.requestsPerSec.toFixed(0)
          } over the whole load), ${r.entries} SLOWLOG ` +
          `entries, ${r.lost} lost, non-2xx ${result.non2xx}, errors ${result.errors}`,
      );
    }
    return { connections: o.connections, durationSec: o.durationSec, runs };
  } finally {
    await api.kill("SIGTERM");
    admin.disconnect();
    await o.redis.flushall();
  }
}

/** One SLOWLOG entry as Redis answers it: id, unix time, µs, arguments, address, client name. */
type Entry = [number, number, number, string[], string, string];

/**
 * Every command Redis runs during a window, from its SLOWLOG with threshold 0. The log is read
 * once logging stopped, not during the window: reading a log this long costs seconds of CPU,
 * which would be taken from the processes measured (two cores for Redis, intake and load).
 */
class SlowlogWindow {
  readonly #admin: Redis;
  constructor(admin: Redis) {
    this.#admin = admin;
  }

  /** Starts logging every command, from an empty log long enough for the whole window. */
  async open(): Promise<void> {
    await this.#admin.call("CONFIG", "SET", "slowlog-max-len", String(SLOWLOG_MAX_LEN));
    await this.#admin.call("CONFIG", "SET", "slowlog-log-slower-than", "0");
    await this.#admin.call("SLOWLOG", "RESET");
  }

  /** Stops logging (the window's end), reads the log, and sets Redis' defaults again. */
  async close(): Promise<{ list: Entry[]; lost: number }> {
    // -1 logs nothing: this command is the last one that could have been logged.
    await this.#admin.call("CONFIG", "SET", "slowlog-log-slower-than", "-1");
    const got = (await this.#admin.call("SLOWLOG", "GET", "-1")) as Entry[];
    await this.#admin.call("CONFIG", "SET", "slowlog-log-slower-than", "10000");
    await this.#admin.call("CONFIG", "SET", "slowlog-max-len", "128");
    await this.#admin.call("SLOWLOG", "RESET");
    // Newest first. Ids count up without gaps; the log drops its oldest entries once full.
    const lost = got.length ? got[0]![0] - got.at(-1)![0] + 1 - got.length : 0;
    return { list: got.filter((e) => e[5] !== ADMIN_NAME), lost };
  }
}

/** Known scripts by SHA-1, and by their first characters (EVAL entries carry a cut text). */
interface ScriptNames {
  bySha: Map<string, string>;
  byPrefix: Map<string, string>;
}

/**
 * Ours from the modules that run them (plain and as the tests' key guard wraps them), BullMQ's
 * as its queue defines them on an ioredis connection (`scriptsSet`, named `<script>:<version>`).
 */
async function scriptNames(redisUrl: string): Promise<ScriptNames> {
  const bySha = new Map<string, string>();
  const byPrefix = new Map<string, string>();
  const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");
  for (const [name, lua] of Object.entries({ ...STORE_LUA, ...EVENT_LOG_LUA, ...ACTIVITY_LUA })) {
    bySha.set(sha1(lua), name);
    bySha.set(sha1(guardLuaKeys(lua)), name);
    byPrefix.set(lua.slice(0, SLOWLOG_ARG_CHARS), name);
  }
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue("bench-script-names", { connection });
  try {
    const client = await queue.backend.client;
    const set = (client as unknown as { scriptsSet?: Record<string, { sha: string; lua: string }> })
      .scriptsSet ?? {};
    for (const [command, script] of Object.entries(set)) {
      const name = `BullMQ ${command.split(":")[0]}`;
      bySha.set(script.sha, name);
      byPrefix.set(script.lua.slice(0, SLOWLOG_ARG_CHARS), name);
    }
    if (!Object.keys(set).length) throw new Error("BullMQ defined no scripts on its connection");
  } finally {
    await queue.close();
    connection.disconnect();
  }
  return { bySha, byPrefix };
}

/** The name of a script call's entry (EVALSHA, EVAL, their _RO forms), or undefined. */
function scriptOf(args: string[], names: ScriptNames): string | undefined {
  const command = args[0]?.toUpperCase();
  const body = args[1] ?? "";
  if (command === "EVALSHA" || command === "EVALSHA_RO") {
    return names.bySha.get(body) ?? `other ${body.slice(0, 8)}`;
  }
  if (command === "EVAL" || command === "EVAL_RO") {
    const sha = createHash("sha1").update(body).digest("hex");
    return names.bySha.get(sha) ?? names.byPrefix.get(body.slice(0, SLOWLOG_ARG_CHARS)) ??
      `other ${sha.slice(0, 8)}`;
  }
  return undefined;
}

function summarize(
  entries: Entry[],
  names: ScriptNames,
  windowSec: number,
  eventsPerRequest: number,
): ScriptsRun {
  const scripts = new Map<string, TimeRow>();
  const commands = new Map<string, TimeRow>();
  const inside = new Map<string, TimeRow>();
  const add = (rows: Map<string, TimeRow>, name: string, micros: number) => {
    const row = rows.get(name) ?? rows.set(name, { name, calls: 0, micros: 0 }).get(name)!;
    row.calls++;
    row.micros += micros;
  };
  for (const [, , micros, args, address] of entries) {
    const script = scriptOf(args, names);
    if (script) add(scripts, script, micros);
    else if (address === "?:0") add(inside, args[0]!.toUpperCase(), micros);
    else add(commands, args[0]!.toUpperCase(), micros);
  }
  const sorted = (m: Map<string, TimeRow>) => [...m.values()].sort((a, b) => b.micros - a.micros);
  const requests = commands.get("MULTI")?.calls ?? 0;
  if (!requests) throw new Error("no enqueue transaction (MULTI) in the SLOWLOG window");
  return {
    eventsPerRequest,
    requests,
    requestsPerSec: requests / windowSec,
    windowSec,
    scripts: sorted(scripts),
    commands: sorted(commands),
    insideScripts: sorted(inside),
    entries: entries.length,
    lost: 0,
  };
}
