/**
 * Logs refused requests at most once per interval per route, with how many there were, so a
 * flood of bad credentials costs one log line a minute instead of one per request.
 */
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../log.ts";

/** Statuses that mean "refused before any work": credentials, CSRF, size, time, budget. */
const REFUSALS = new Set([401, 403, 408, 411, 413, 503]);

/** Options of {@linkcode refusalLog}. */
export interface RefusalLogOptions {
  logger: Logger;
  /** @default 60_000 */
  intervalMs?: number;
  /** @default Date.now */
  now?: () => number;
}

interface Tally {
  lastLoggedAt: number;
  /** Refusals by status since the last line. */
  counts: Map<number, number>;
}

/**
 * @throws {RangeError} when `intervalMs` is negative
 * @example
 * app.use("*", refusalLog({ logger }));
 */
export function refusalLog(options: RefusalLogOptions): MiddlewareHandler {
  const { logger, intervalMs = 60_000, now = Date.now } = options;
  if (!(intervalMs >= 0)) {
    throw new RangeError(
      `Cannot log refusals as 'intervalMs' must be 0 or more: current value is ${intervalMs}`,
    );
  }
  const tallies = new Map<string, Tally>();
  return async function logRefusals(c, next) {
    await next();
    const status = c.res.status;
    if (!REFUSALS.has(status)) return;
    // The matched route pattern, not the path: a scan of random paths stays one key.
    const route = `${c.req.method} ${c.req.routePath}`;
    const tally = tallies.get(route) ?? { lastLoggedAt: -Infinity, counts: new Map() };
    tallies.set(route, tally);
    tally.counts.set(status, (tally.counts.get(status) ?? 0) + 1);
    const t = now();
    if (t - tally.lastLoggedAt < intervalMs) return;
    const byStatus = Object.fromEntries(tally.counts);
    const count = [...tally.counts.values()].reduce((a, b) => a + b, 0);
    // `count` covers everything since the previous line for this route (at most `intervalMs` ago
    // when requests keep coming).
    logger.warn("requests refused", { route, count, byStatus });
    tally.lastLoggedAt = t;
    tally.counts.clear();
  };
}
