/**
 * Client-side rate limiting for the target clients (IONOS here; Contabo and Cloudflare through
 * src/targets/clients.ts).
 *
 * IONOS limits per credentials, not per process, and does not publish the numbers
 * (ionos-facts.md), so every worker that uses the same credentials must share one budget:
 * `RedisRateLimiter` keeps it in Redis. Both limiters use GCRA (a token bucket stored as one
 * "theoretical arrival time"): over any 1-second window at most `requestsPerSecond + burst`
 * calls pass, and `pause(ms)` stops everyone, as a 429 asks.
 *
 * The configured rate (IONOS_RATE_LIMIT_RPS) is an upper bound: every IONOS answer states the
 * contract's limit in `X-RateLimit-Limit` (average requests per minute, ionos-facts.md), and
 * `observe()` lowers the rate to it, so a contract with a smaller limit than configured is not
 * driven into 429s.
 */
import type { Redis } from "ioredis";
import { LuaScript } from "../store/lua_script.ts";
import { sleep } from "./http/retry.ts";

/** What an IONOS answer says about the limit (`X-RateLimit-*` headers). */
export interface ObservedLimit {
  /** `X-RateLimit-Limit`: average requests per minute the contract allows. */
  perMinute: number;
}

/** A shared call budget. `acquire()` resolves when one call may be made. */
export interface RateLimiter {
  acquire(): Promise<void>;
  /** Makes every `acquire()` sharing this limiter wait at least `ms` from now. */
  pause(ms: number): Promise<void>;
  /**
   * Learns the contract's limit from an answer; the rate used is the smaller of it and the
   * configured one. Never throws and never waits: it is called on every answer.
   */
  observe?(limit: ObservedLimit): void;
  /** Calls per second this limiter allows now (configured, or learned if lower). */
  readonly requestsPerSecond?: number;
}

/** The interval in ms between calls for a limit of `perMinute`; undefined if unusable. */
function learnedInterval(perMinute: number): number | undefined {
  return Number.isFinite(perMinute) && perMinute > 0 ? 60_000 / perMinute : undefined;
}

export interface RateLimiterOptions {
  /** Steady rate; fractions allowed (IONOS quotes per minute: 120/min is 2). */
  requestsPerSecond: number;
  /** Calls that may pass at once after an idle period. @default 1 */
  burst?: number;
}

function validate(options: RateLimiterOptions, allowInfinite: boolean): [number, number] {
  const { requestsPerSecond, burst = 1 } = options;
  if (!(requestsPerSecond > 0) || (!allowInfinite && !Number.isFinite(requestsPerSecond))) {
    throw new RangeError(
      `Cannot limit as 'requestsPerSecond' must be a positive number: current value is ${requestsPerSecond}`,
    );
  }
  if (!Number.isInteger(burst) || burst < 1) {
    throw new RangeError(
      `Cannot limit as 'burst' must be a positive integer: current value is ${burst}`,
    );
  }
  return [1000 / requestsPerSecond, burst];
}

/**
 * The limiters' Redis keys are built here, not in src/store/keys.ts: they live outside
 * REDIS_PREFIX (a budget belongs to the account, shared by every service that uses it whatever
 * its prefix), and `RedisRateLimiter` wraps the name in a hash tag (`{<name>}:tat`...) so its
 * script's keys share one Cluster slot. The name is `<target>:rl:<hex SHA-256>`: neither a token
 * nor a user name ends up in Redis.
 */
async function limiterName(target: string, input: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${target}:rl:${hex}`;
}

/**
 * Derives the IONOS limiter's key from the API base URL and the credential identity, hashed.
 * The same account on the same API shares one key; a password change keeps the key (the IONOS
 * limit follows the user).
 *
 * @example const key = await rateLimiterKey("https://api.ionos.com/cloudapi/v6", { token }); // "ionos:rl:3f9c..."
 */
export async function rateLimiterKey(
  baseUrl: string,
  auth: { token: string } | { username: string; password?: string },
): Promise<string> {
  const identity = "token" in auth ? `token:${auth.token}` : `user:${auth.username.toLowerCase()}`;
  const url = baseUrl.replace(/\/+$/, "").toLowerCase();
  return await limiterName("ionos", `${url}\n${identity}`);
}

/**
 * The limiter key of another target (Contabo, Cloudflare) and credential `identity`, hashed
 * (src/targets/clients.ts says which fields make up the identity).
 *
 * @example const key = await targetRateLimiterKey("contabo", `${apiUrl}\n${apiUser}`); // "contabo:rl:..."
 */
export async function targetRateLimiterKey(target: string, identity: string): Promise<string> {
  return await limiterName(target, `${target}\n${identity}`);
}

/**
 * In-process GCRA limiter, for tests and single-process use without Redis.
 * `requestsPerSecond: Infinity` gives a limiter that only honours `pause()`.
 */
export class LocalRateLimiter implements RateLimiter {
  readonly #configured: number;
  #interval: number;
  readonly #burst: number;
  #tat = 0;
  #pausedUntil = 0;

  constructor(options: RateLimiterOptions) {
    [this.#configured, this.#burst] = validate(options, true);
    this.#interval = this.#configured;
  }

  /** Calls per second allowed now: the configured rate, or the learned limit if lower. */
  get requestsPerSecond(): number {
    return this.#interval === 0 ? Infinity : 1000 / this.#interval;
  }

  observe(limit: ObservedLimit): void {
    const learned = learnedInterval(limit.perMinute);
    if (learned !== undefined) this.#interval = Math.max(this.#configured, learned);
  }

  async acquire(): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (this.#pausedUntil > now) {
        await sleep(this.#pausedUntil - now);
        continue;
      }
      if (this.#interval === 0) return;
      const next = Math.max(this.#tat, now) + this.#interval;
      const allowAt = next - this.#burst * this.#interval;
      if (allowAt <= now) {
        this.#tat = next;
        return;
      }
      await sleep(Math.ceil(allowAt - now));
    }
  }

  pause(ms: number): Promise<void> {
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + ms);
    return Promise.resolve();
  }
}

// Both scripts read the clock from Redis (TIME), so processes with skewed clocks agree.
// Values are stored as "%.3f" strings: Lua's tostring would round epoch milliseconds.
const CLOCK = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/**
 * KEYS: tat, pausedUntil, learned limit per minute. ARGV: interval ms, burst.
 * The interval used is the longer of ARGV's and the learned limit's, so every process sharing
 * the key follows a limit any one of them learned.
 * Returns {1, ms}: a slot is reserved, go after ms (0: at once); or {0, ms}: everyone is paused,
 * ask again after ms. Reserving (instead of "come back later") means no slot is lost to callers
 * that wake a little late, so the budget is used to the full.
 */
const ACQUIRE_LUA = new LuaScript(`${CLOCK}
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {0, math.ceil(paused - now)} end
local interval = tonumber(ARGV[1])
local learned = tonumber(redis.call('GET', KEYS[3]) or '0')
if learned and learned > 0 and 60000 / learned > interval then interval = 60000 / learned end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nextTat = tat + interval
local allowAt = nextTat - tonumber(ARGV[2]) * interval
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 1000)
if allowAt > now then return {1, math.ceil(allowAt - now)} end
return {1, 0}
`);

/** How long a learned limit is kept without being seen again. */
const LEARNED_TTL_MS = 10 * 60_000;
/** A learned limit is written again at most this often (on change: at once). */
const RELEARN_EVERY_MS = 60_000;

/** KEYS: pausedUntil. ARGV: ms. Only ever extends a pause. */
const PAUSE_LUA = new LuaScript(`${CLOCK}
local ms = tonumber(ARGV[1])
local untilTs = now + ms
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilTs > current then
  redis.call('SET', KEYS[1], string.format('%.3f', untilTs), 'PX', math.ceil(ms) + 1000)
end
return 0
`);

/**
 * How late a caller may wake for its reserved slot and still use it. Later, the slot is given up
 * (see `RedisRateLimiter.acquire`): a quarter second of calls at most go out bunched.
 */
const LATE_TOLERANCE_MS = 250;

export interface RedisRateLimiterOptions extends RateLimiterOptions {
  redis: Redis;
  /** Shared by every process using the same IONOS credentials: see `rateLimiterKey()`. */
  key: string;
}

/**
 * GCRA limiter whose state lives in Redis, so all workers with the same `key` share the budget.
 * One script call per `acquire()`: it reserves the caller's slot, and the caller sleeps until it.
 *
 * @example
 * const limiter = new RedisRateLimiter({ redis, key: rateLimiterKey(url, auth), requestsPerSecond: 2 });
 * await limiter.acquire();
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #keys: [string, string, string];
  readonly #interval: number;
  readonly #burst: number;
  readonly #lateToleranceMs: number;
  #lastLearned = { perMinute: 0, at: 0 };

  /** The configured rate, or the limit this process learned if lower. */
  get requestsPerSecond(): number {
    const learned = this.#lastLearned.perMinute / 60;
    const configured = 1000 / this.#interval;
    return learned > 0 ? Math.min(configured, learned) : configured;
  }

  constructor(options: RedisRateLimiterOptions) {
    [this.#interval, this.#burst] = validate(options, false);
    this.#redis = options.redis;
    this.#lateToleranceMs = Math.max(LATE_TOLERANCE_MS, 5 * this.#interval);
    // Hash tag keeps the keys in one Redis Cluster slot, as one script touches them all.
    this.#keys = [`{${options.key}}:tat`, `{${options.key}}:paused`, `{${options.key}}:limit`];
  }

  /**
   * Stores the learned limit in Redis for every process on the key; written on change and once
   * a minute, not on every answer.
   */
  observe(limit: ObservedLimit): void {
    if (learnedInterval(limit.perMinute) === undefined) return;
    const now = Date.now();
    const last = this.#lastLearned;
    if (last.perMinute === limit.perMinute && now - last.at < RELEARN_EVERY_MS) return;
    this.#lastLearned = { perMinute: limit.perMinute, at: now };
    this.#redis.set(this.#keys[2], String(limit.perMinute), "PX", LEARNED_TTL_MS)
      .catch(() => {
        this.#lastLearned = { perMinute: 0, at: 0 }; // try again with the next answer
      });
  }

  async acquire(): Promise<void> {
    for (let missed = 0;;) {
      const asked = performance.now();
      const [reserved, wait] = (await ACQUIRE_LUA.run(this.#redis, this.#keys, [
        this.#interval,
        this.#burst,
      ])) as [number, number];
      if (reserved === 1) {
        if (wait > 0) await sleep(wait);
        // A process held up (a long GC, a starved CPU, container throttling) wakes all its
        // sleepers at once, and their slots, spread over the hold-up, would go out together as a
        // burst over the contract's limit. A slot missed by more than the tolerance is given up
        // and a new one reserved; only once, so a process that is late all the time still calls.
        const late = performance.now() - (asked + Math.max(0, wait));
        if (late <= this.#lateToleranceMs || missed++ > 0) return;
        continue;
      }
      // Paused after a 429: spread the wake-ups so waiting workers do not all ask at once.
      await sleep(wait + Math.random() * Math.min(10, this.#interval));
    }
  }

  async pause(ms: number): Promise<void> {
    if (ms > 0) await PAUSE_LUA.run(this.#redis, [this.#keys[1]], [ms]);
  }
}
