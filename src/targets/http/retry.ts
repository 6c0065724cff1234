/** Small timing helpers for every target client: backoff, `Retry-After`, sleep. */

/**
 * Exponential backoff with full jitter: a random wait in `[0, min(maxMs, baseMs * 2^(attempt-1)))`.
 * Full jitter spreads workers that failed together so they do not retry together.
 *
 * @param attempt 1 for the wait after the first failure.
 * @example backoffDelay(3, 200, 10_000) // somewhere in [0, 800)
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses a `Retry-After` header: delay in seconds or an HTTP-date (RFC 9110, 10.2.3).
 * Returns milliseconds from `nowMs`, or undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Resolves after `ms` milliseconds (immediately for 0 or less). */
export function sleep(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
