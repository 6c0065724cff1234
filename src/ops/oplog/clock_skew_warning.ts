/**
 * Warns when events arrive with a `time` too far in the future (they were applied at Redis'
 * clock instead; see src/store/apply_events.lua). A misconfigured or hostile source could send
 * many, so the warning is logged at most once per interval per source, with the count since.
 */
import type { IngestDeps } from "../../intake/ingest.ts";
import type { Logger } from "../../log.ts";

export interface ClockSkewWarningOptions {
  /** Least time between two warnings for one source. @default 60_000 */
  intervalMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * An `onIngested` hook that logs clamped event times, rate-limited per source.
 *
 * @example
 * const warn = clockSkewWarning(logger);
 * await warn(events, result, { source: "events" }, jobs);
 */
export function clockSkewWarning(
  logger: Logger,
  options: ClockSkewWarningOptions = {},
): NonNullable<IngestDeps["onIngested"]> {
  const { intervalMs = 60_000, now = Date.now } = options;
  const bySource = new Map<string, { lastLogAt: number; unlogged: number }>();
  return function warnClockSkew(_events, result, context) {
    if (!result.clamped) return;
    const seen = bySource.get(context.source) ?? { lastLogAt: -Infinity, unlogged: 0 };
    bySource.set(context.source, seen);
    seen.unlogged += result.clamped;
    if (now() - seen.lastLogAt < intervalMs) return;
    logger.warn("event times ahead of the clock were applied at the clock instead", {
      source: context.source,
      count: seen.unlogged,
      requestId: context.requestId,
    });
    seen.lastLogAt = now();
    seen.unlogged = 0;
  };
}
