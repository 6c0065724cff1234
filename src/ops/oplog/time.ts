/** Time arguments operators type: ISO timestamps or "how long ago" (`90s`, `15m`, `2h`, `7d`). */

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses an ISO timestamp, epoch milliseconds, or a duration meaning "that long before now".
 *
 * @throws {TypeError} for anything else, naming what is accepted
 * @example
 * parseTime("2h", Date.parse("2026-11-21T12:00:00Z")); // 2026-11-21T10:00:00Z in ms
 * parseTime("2026-11-21T10:00:00Z");
 */
export function parseTime(text: string, now = Date.now()): number {
  const t = text.trim();
  const rel = /^(\d+(?:\.\d+)?)\s*([smhd])$/i.exec(t);
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]!.toLowerCase()]!;
  if (/^\d{12,}$/.test(t)) return Number(t);
  // A bare date or date-time without a zone is read as UTC, not the host's local time.
  const iso = /^\d{4}-\d{2}-\d{2}(T[\d:.]+)?$/.test(t) ? `${t}${t.includes("T") ? "Z" : ""}` : t;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(iso) ? Date.parse(iso) : NaN;
  if (Number.isNaN(ms)) {
    throw new TypeError(
      `Cannot read time "${text}": use an ISO time (2026-11-21T10:00:00Z) or an age (30m, 2h, 7d)`,
    );
  }
  return ms;
}
