/** Query parameters the UM endpoints share: depth, offset, limit and `filter.<property>`. */
import { IonosApiError } from "./errors.ts";

/** Parsed list/read options. */
export interface ListQuery {
  depth: number;
  offset: number;
  limit: number;
  /** property name -> wanted value, from `filter.<property>=<value>`. */
  filters: Map<string, string>;
}

/** `limit` is 1 to 100, default 100 (ionos-facts.md, "Queries"). */
export const MAX_LIMIT = 100;
/** Depth above 1 is being retired on /um; small values stay accepted, big ones are refused. */
const MAX_DEPTH = 5;

/**
 * An integer query parameter within `min..max`, or `fallback` when absent.
 * @throws {IonosApiError} 400 for anything else (IONOS refuses rather than clamps).
 */
export function intParam(
  url: URL,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new IonosApiError(400, `Query parameter '${name}' must be an integer ${min}..${max}`);
  }
  return n;
}

/**
 * Reads depth, offset, limit and filters from `url`.
 * @throws {IonosApiError} 400 for a value out of range (IONOS refuses rather than clamps).
 */
export function parseListQuery(url: URL): ListQuery {
  const filters = new Map<string, string>();
  for (const [k, v] of url.searchParams) {
    if (k.startsWith("filter.")) filters.set(k.slice("filter.".length), v);
  }
  return {
    depth: intParam(url, "depth", 0, 0, MAX_DEPTH),
    offset: intParam(url, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
    limit: intParam(url, "limit", MAX_LIMIT, 1, MAX_LIMIT),
    filters,
  };
}

/**
 * Keeps items whose `properties[name]` equals each filter value, case-insensitively (so
 * `filter.email` finds `Ann@X.org` for `ann@x.org`).
 * @throws {IonosApiError} 400 for a property the resource does not have.
 */
export function applyFilters<T extends { properties: object }>(
  items: T[],
  filters: Map<string, string>,
  known: readonly string[],
): T[] {
  for (const name of filters.keys()) {
    if (!known.includes(name)) throw new IonosApiError(400, `Unknown filter property '${name}'`);
  }
  return items.filter((item) =>
    [...filters].every(([name, wanted]) => {
      const v = (item.properties as Record<string, unknown>)[name];
      return String(v).toLowerCase() === wanted.toLowerCase();
    })
  );
}
