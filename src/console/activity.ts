/**
 * Per-minute activity for the console's overview: events accepted by the intake, IONOS calls
 * made by the workers, and the rate limit in force. Neither the Prometheus registry
 * (src/metrics, in-process counters without history) nor the rate limiter (one GCRA arrival
 * time in Redis) keeps a history, so each process counts in memory and adds its counts every
 * few seconds to one Redis hash per minute (`<prefix>:console:activity:<minute>`) that expires
 * after two hours: a ring buffer every intake and worker process shares, read by any intake.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../log.ts";

/** One minute of activity, summed over all processes. */
export interface ActivityMinute {
  /** Start of the minute, epoch ms. */
  at: number;
  events: number;
  ionosCalls: number;
  /** The IONOS call limit per minute a worker had in force then; undefined if none reported. */
  limitPerMinute?: number;
}

const MINUTE_MS = 60_000;
const KEEP_SECONDS = 2 * 3600;

/** The Redis key of one minute's hash. */
export function activityKey(prefix: string, minuteStartMs: number): string {
  return `${prefix}:console:activity:${minuteStartMs}`;
}

/**
 * The in-process counters; the hooks call it, {@linkcode startActivityRecorder} empties it.
 *
 * @example
 * const activity = new ActivityCounter();
 * onIngested: (events, result) => activity.countEvents(result.accepted);
 */
export class ActivityCounter {
  #events = 0;
  #ionosCalls = 0;
  #recording = false;

  /** Events accepted (not duplicates). */
  countEvents(n: number): void {
    if (n > 0) this.#events += n;
  }

  /** One HTTP request to IONOS (any outcome: a 429 or 5xx used the budget too). */
  readonly countIonosCall = (): void => {
    this.#ionosCalls++;
  };

  /** Takes the counts so far and starts again from zero. */
  take(): { events: number; ionosCalls: number } {
    const out = { events: this.#events, ionosCalls: this.#ionosCalls };
    this.#events = 0;
    this.#ionosCalls = 0;
    return out;
  }

  /** Marks the counter as flushed by a recorder; false when one already does (role `all`). */
  claim(): boolean {
    if (this.#recording) return false;
    this.#recording = true;
    return true;
  }

  release(): void {
    this.#recording = false;
  }
}

export interface ActivityRecorderOptions {
  redis: Redis;
  activity: ActivityCounter;
  /** @default "sync" */
  prefix?: string;
  /** IONOS calls per minute allowed now (workers only). */
  limitPerMinute?: () => number | undefined;
  /** How often counts go to Redis. @default 10_000 */
  flushEveryMs?: number;
  logger?: Logger;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Adds this process's counts to Redis every `flushEveryMs` and once more on stop. Starting a
 * second recorder on the same counter (intake and workers in one process) adds nothing but the
 * limit; the first one flushes the counts.
 *
 * @returns a function that stops it after a last flush
 */
export function startActivityRecorder(options: ActivityRecorderOptions): () => Promise<void> {
  const { redis, activity, prefix = "sync", flushEveryMs = 10_000, now = Date.now } = options;
  const owner = activity.claim();
  const flush = async () => {
    const minute = Math.floor(now() / MINUTE_MS) * MINUTE_MS;
    const key = activityKey(prefix, minute);
    const counts = owner ? activity.take() : { events: 0, ionosCalls: 0 };
    const limit = options.limitPerMinute?.();
    const tx = redis.multi();
    if (counts.events) tx.hincrby(key, "events", counts.events);
    if (counts.ionosCalls) tx.hincrby(key, "ionosCalls", counts.ionosCalls);
    if (limit !== undefined && Number.isFinite(limit) && limit > 0) {
      tx.hset(key, "limitPerMinute", String(Math.round(limit)));
    }
    if (tx.length === 0) return;
    tx.expire(key, KEEP_SECONDS);
    try {
      await tx.exec();
    } catch (error) {
      // The overview's chart is not worth a failure; counts of this interval are lost.
      options.logger?.warn("console activity not recorded", { error: (error as Error).message });
    }
  };
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(flush);
  }, flushEveryMs);
  return async () => {
    clearInterval(timer);
    await running;
    await flush();
    if (owner) activity.release();
  };
}

/**
 * The last `minutes` minutes, oldest first, the current minute last.
 *
 * @example
 * const hour = await readActivity(redis, "sync", 60);
 */
export async function readActivity(
  redis: Redis,
  prefix: string,
  minutes: number,
  now: number = Date.now(),
): Promise<ActivityMinute[]> {
  const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const starts = Array.from({ length: minutes }, (_, i) => current - (minutes - 1 - i) * MINUTE_MS);
  const pipe = redis.pipeline();
  for (const at of starts) pipe.hgetall(activityKey(prefix, at));
  const rows = (await pipe.exec()) ?? [];
  return starts.map((at, i) => {
    const h = (rows[i]?.[1] ?? {}) as Record<string, string>;
    const limit = Number(h.limitPerMinute);
    return {
      at,
      events: Number(h.events ?? 0),
      ionosCalls: Number(h.ionosCalls ?? 0),
      ...(limit > 0 ? { limitPerMinute: limit } : {}),
    };
  });
}
