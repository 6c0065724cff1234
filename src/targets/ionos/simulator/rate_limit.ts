/**
 * The shared rate limit: one token bucket for every API call, because IONOS limits per
 * contract/credential and all our workers share one (ionos-facts.md, "Rate limits").
 */

/** Outcome of asking the bucket for one token. */
export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/** Token bucket: `burst` tokens, refilled at `ratePerSecond`. */
export class TokenBucket {
  #tokens: number;
  #last: number;

  /**
   * @param ratePerSecond Refill rate; 0 or Infinity means unlimited.
   * @param burst Bucket size (`X-RateLimit-Burst`).
   * @param now Clock in ms.
   */
  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  /** False when the limit is switched off. */
  get enabled(): boolean {
    return this.ratePerSecond > 0 && Number.isFinite(this.ratePerSecond);
  }

  /** Tokens left, rounded down (`X-RateLimit-Remaining`). */
  get remaining(): number {
    this.#refill();
    return Math.floor(this.#tokens);
  }

  /** Takes a token if there is one; otherwise says how long until there will be. */
  take(): TakeResult {
    if (!this.enabled) return { ok: true };
    this.#refill();
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { ok: true };
    }
    const seconds = Math.ceil((1 - this.#tokens) / this.ratePerSecond);
    return { ok: false, retryAfterSeconds: Math.max(1, seconds) };
  }

  /** The headers IONOS sends with every answer (limit is per minute). */
  headers(): Record<string, string> {
    if (!this.enabled) return {};
    return {
      "X-RateLimit-Limit": String(Math.round(this.ratePerSecond * 60)),
      "X-RateLimit-Remaining": String(this.remaining),
      "X-RateLimit-Burst": String(this.burst),
    };
  }

  /** Fills the bucket again. */
  reset(): void {
    this.#tokens = this.burst;
    this.#last = this.now();
  }

  #refill(): void {
    const t = this.now();
    this.#tokens = Math.min(
      this.burst,
      this.#tokens + ((t - this.#last) / 1000) * this.ratePerSecond,
    );
    this.#last = t;
  }
}

/** Counts events in a sliding 1-second window and remembers the highest count seen. */
export class WindowCounter {
  #times: number[] = [];
  #head = 0;
  #max = 0;

  /** Records one event at `t` ms. */
  add(t: number): void {
    this.#times.push(t);
    while (this.#times[this.#head]! <= t - 1000) this.#head++;
    // Compact now and then so the array does not grow with the whole history.
    if (this.#head > 1024) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
    this.#max = Math.max(this.#max, this.#times.length - this.#head);
  }

  /** Highest number of events seen within any 1-second window. */
  get max(): number {
    return this.#max;
  }

  /** Forgets everything. */
  clear(): void {
    this.#times = [];
    this.#head = 0;
    this.#max = 0;
  }
}
