/**
 * Per-minute activity for the console's overview: events accepted by the intake, IONOS calls
 * made by the workers, and the rate limit in force. Neither the Prometheus registry
 * (src/metrics, in-process counters without history) nor the rate limiter (one GCRA arrival
 * time in Redis) keeps a history, so the counts go to one Redis hash per minute
 * (`<prefix>:console:activity:<minute>`) that expires after two hours: a ring buffer every
 * intake and worker process adds to, read by any intake.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../log.ts";
import type { ScriptCall, TransactionScript } from "../queue/atomic_enqueue.ts";
import { type StoreKeys, storeKeys } from "../store/keys.ts";
import { luaSource } from "../store/lua_key_guard.ts";

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

/** The key builders per prefix: the intake counts in every request, so they are built once. */
const keysByPrefix = new Map<string, StoreKeys>();

/** The Redis key of one minute's hash (`StoreKeys.activity`). */
export function activityKey(prefix: string, minuteStartMs: number): string {
  let keys = keysByPrefix.get(prefix);
  if (!keys) keysByPrefix.set(prefix, keys = storeKeys(prefix));
  return keys.activity(minuteStartMs);
}

/**
 * Adds accepted events to the current minute, in the request that accepted them: written before
 * the 2xx, so Redis never changes later on account of a request already answered. Never throws:
 * the events are stored, and a chart is not worth failing the request.
 */
export async function recordEvents(
  redis: Redis,
  prefix: string,
  count: number,
  logger?: Logger,
  now: number = Date.now(),
): Promise<void> {
  if (count <= 0) return;
  const key = activityKey(prefix, Math.floor(now / MINUTE_MS) * MINUTE_MS);
  try {
    await redis.eval(luaSource(COUNT_EVENTS_SCRIPT.lua), 1, key, count, KEEP_SECONDS);
  } catch (error) {
    logger?.warn("console activity not recorded", { error: (error as Error).message });
  }
}

const COUNT_EVENTS_SCRIPT: TransactionScript = {
  name: "syncConsoleCountEvents",
  lua: `redis.call('HINCRBY', KEYS[1], 'events', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`,
  numberOfKeys: 1,
};

/** The count's Lua, as written: for bench/redis_scripts.ts, which names scripts by SHA-1. */
export const ACTIVITY_LUA: Readonly<Record<string, string>> = {
  "console activity count": COUNT_EVENTS_SCRIPT.lua,
};

/**
 * {@linkcode recordEvents} as a script call for the intake's enqueue transaction
 * (`IngestDeps.alsoInTransaction`): the count then costs no round trip of its own (issue 9).
 */
export function recordEventsCall(
  prefix: string,
  count: number,
  now: number = Date.now(),
): ScriptCall {
  const key = activityKey(prefix, Math.floor(now / MINUTE_MS) * MINUTE_MS);
  return { script: COUNT_EVENTS_SCRIPT, keys: [key], args: [count, KEEP_SECONDS] };
}

/**
 * IONOS calls made by this process's workers, counted in memory (one per HTTP request, in the
 * client's `onCall` hook) and written by {@linkcode startActivityRecorder}: a call is too
 * frequent for a Redis write of its own.
 *
 * @example
 * const calls = new IonosCallCounter();
 * new IonosClient({ ..., onCall: calls.count });
 */
export class IonosCallCounter {
  #calls = 0;
  /** IONOS calls per minute allowed now; set where workers run (their limiter knows it). */
  limitPerMinute?: () => number | undefined;

  /** One HTTP request to IONOS (any outcome: a 429 or 5xx used the budget too). */
  readonly count = (): void => {
    this.#calls++;
  };

  /** Takes the count so far and starts again from zero. */
  take(): number {
    const n = this.#calls;
    this.#calls = 0;
    return n;
  }
}

export interface ActivityRecorderOptions {
  redis: Redis;
  calls: IonosCallCounter;
  /** @default "sync" */
  prefix?: string;
  /** How often counts go to Redis. @default 10_000 */
  flushEveryMs?: number;
  logger?: Logger;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Adds this process's IONOS calls, with the limit in force, to Redis every `flushEveryMs` and
 * once more on stop; an interval without calls writes nothing.
 *
 * @returns a function that stops it after a last flush
 */
export function startActivityRecorder(options: ActivityRecorderOptions): () => Promise<void> {
  const { redis, calls, prefix = "sync", flushEveryMs = 10_000, now = Date.now } = options;
  const flush = async () => {
    const n = calls.take();
    if (!n) return;
    const key = activityKey(prefix, Math.floor(now() / MINUTE_MS) * MINUTE_MS);
    const tx = redis.multi().hincrby(key, "ionosCalls", n);
    const limit = calls.limitPerMinute?.();
    if (limit !== undefined && Number.isFinite(limit) && limit > 0) {
      tx.hset(key, "limitPerMinute", String(Math.round(limit)));
    }
    tx.expire(key, KEEP_SECONDS);
    try {
      await tx.exec();
    } catch (error) {
      // The overview's chart is not worth a failure; the calls of this interval are lost.
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
