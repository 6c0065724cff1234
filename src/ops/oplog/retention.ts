/**
 * The retention sweeper: the one place that makes personal data (emails, names) go when its
 * time is up, whether or not events keep arriving. Each sweep
 * - trims the event log to its age (`EVENT_LOG_MAX_AGE_HOURS`); `append` only trims when an
 *   event comes in, so without traffic 3-hour-old entries outlived a 1-hour retention; the
 *   audit log likewise to its own age (30 days: a discarded job's last error is kept there);
 * - removes the email from tombstones of users deleted longer ago than `RETENTION_HOURS`; the
 *   id and time stay, so a late, older event still cannot bring the user back;
 * - removes failed and completed sync jobs that ended longer ago than `RETENTION_HOURS` (their
 *   errors quote IONOS answers, which may name the user), and trims BullMQ's event stream of
 *   the queue (`failedReason` copies) to the same age.
 * Runs in every worker process; every step is idempotent, so several workers may sweep at once.
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../../log.ts";
import { storeKeys } from "../../store/keys.ts";
import { LuaScript } from "../../store/lua_script.ts";
import type { AuditLog } from "./audit_log.ts";
import type { EventLog } from "./event_log.ts";

/** Options of {@linkcode sweepRetention} and {@linkcode startRetentionSweeper}. */
export interface RetentionOptions {
  redis: Redis;
  /** @default "sync" */
  prefix?: string;
  eventLog: EventLog;
  /** Trimmed to its own age. @default none */
  auditLog?: AuditLog;
  /** Queues whose finished jobs are cleaned. */
  queues: Queue[];
  /** How long tombstones keep their email and finished jobs are kept. */
  retentionMs: number;
  logger: Logger;
  /** @default 300_000 (5 minutes) */
  intervalMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** What one sweep removed. */
export interface SweepReport {
  eventLogEntries: number;
  auditLogEntries: number;
  tombstones: number;
  jobs: number;
}

/** Rewrites a tombstone without its email, only if it is still the same old tombstone. */
const SCRUB_TOMBSTONE = new LuaScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local v = cjson.decode(cur)
if v.deleted ~= true or tonumber(v.t) >= tonumber(ARGV[1]) or v.email == nil then return 0 end
redis.call('SET', KEYS[1], cjson.encode({ id = v.id, deleted = true, t = v.t, eventId = v.eventId }))
return 1`);

const BATCH = 500;

/**
 * Runs one sweep.
 *
 * @example
 * await sweepRetention({ redis, eventLog, queues: [queue], retentionMs: 7 * 86_400_000, logger });
 */
export async function sweepRetention(options: RetentionOptions): Promise<SweepReport> {
  const { redis, prefix = "sync", eventLog, queues, retentionMs, now = Date.now } = options;
  const t = now();
  const cutoff = t - retentionMs;
  const eventLogEntries = await eventLog.trimByAge(t);
  const auditLogEntries = (await options.auditLog?.trimByAge(t)) ?? 0;
  const tombstones = await scrubTombstones(redis, prefix, cutoff);
  let jobs = 0;
  for (const queue of queues) {
    for (const state of ["failed", "completed"] as const) {
      // clean() removes at most `limit` per call: repeat until a call finds fewer.
      for (;;) {
        const removed = await queue.clean(retentionMs, 1000, state);
        jobs += removed.length;
        if (removed.length < 1000) break;
      }
    }
    // BullMQ's events stream carries failedReason copies; its ids are ms timestamps.
    await redis.xtrim(queue.keys.events!, "MINID", String(Math.max(0, cutoff)));
  }
  return { eventLogEntries, auditLogEntries, tombstones, jobs };
}

async function scrubTombstones(redis: Redis, prefix: string, cutoff: number): Promise<number> {
  const keys = storeKeys(prefix);
  let scrubbed = 0;
  let cursor = "0";
  do {
    const [next, ids] = await redis.sscan(keys.users, cursor, "COUNT", BATCH);
    cursor = next;
    if (ids.length === 0) continue;
    const values = await redis.mget(ids.map((id) => keys.user(id)));
    for (const [i, raw] of values.entries()) {
      if (!raw || !raw.includes('"deleted":true')) continue;
      const v = JSON.parse(raw) as { t?: number; email?: string };
      if (v.email === undefined || !(Number(v.t) < cutoff)) continue;
      scrubbed += Number(await SCRUB_TOMBSTONE.run(redis, [keys.user(ids[i]!)], [String(cutoff)]));
    }
  } while (cursor !== "0");
  return scrubbed;
}

/**
 * Sweeps now and then every `intervalMs`.
 *
 * @throws {RangeError} when `retentionMs` or `intervalMs` is not positive
 * @returns a function that stops the sweeper and waits for a sweep in progress
 */
export function startRetentionSweeper(options: RetentionOptions): () => Promise<void> {
  const { intervalMs = 300_000, retentionMs, logger } = options;
  if (!(retentionMs > 0) || !(intervalMs > 0)) {
    throw new RangeError(
      `Cannot start the retention sweeper as 'retentionMs' and 'intervalMs' must be positive: current values are ${retentionMs} and ${intervalMs}`,
    );
  }
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= sweepRetention(options).then((report) => {
      if (Object.values(report).some((n) => n > 0)) {
        logger.info("retention sweep", { ...report });
      }
    }, (error) => {
      logger.warn("retention sweep failed; will try again", { error: (error as Error).message });
    }).finally(() => running = undefined);
  };
  const timer = setInterval(tick, intervalMs);
  tick();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
