/**
 * `GET /requests` query parameters, as the SDK documentation of the v6 Requests API gives them
 * (sdk-python docs/api/RequestsApi.md, `requests_get`): `offset` (default 0), `limit`
 * (default 1000), `depth`, and filters:
 * - `filter.status` (QUEUED | RUNNING | DONE | FAILED), `filter.createdAfter` and
 *   `filter.createdBefore` (`yyyy-MM-dd HH:mm:ss`) work at any depth;
 * - `filter.createdDate`, `createdBy`, `etag`, `requestStatus`, `method`, `headers`, `body`,
 *   `url` match a case-insensitive substring and need `depth` > 0.
 */
import type { IonosRequestState } from "../types.ts";
import { IonosApiError } from "./errors.ts";
import type { RequestRecord } from "./requests.ts";
import { intParam } from "./query.ts";

/** Parsed `GET /requests` parameters. */
export interface RequestsQuery {
  depth: number;
  offset: number;
  limit: number;
  status?: IonosRequestState;
  /** Epoch ms, exclusive. */
  createdAfter?: number;
  /** Epoch ms, exclusive. */
  createdBefore?: number;
  /** name -> lower-cased substring. */
  contains: Map<SubstringFilter, string>;
}

const SUBSTRING_FILTERS = [
  "createdDate",
  "createdBy",
  "etag",
  "requestStatus",
  "method",
  "headers",
  "body",
  "url",
] as const;
type SubstringFilter = typeof SUBSTRING_FILTERS[number];
const STATES = ["QUEUED", "RUNNING", "DONE", "FAILED"];

/** Default page size of the Requests API (RequestsApi.md: "default to 1000"). */
export const REQUESTS_DEFAULT_LIMIT = 1000;
// The largest limit is not documented; 10,000 keeps one answer to a few MiB.
const MAX_LIMIT = 10_000;
const MAX_DEPTH = 10; // ionosctl: "Max depth is 10"

/**
 * Reads a `yyyy-MM-dd HH:mm:ss` date. The documentation names no time zone; UTC is what the
 * API's own timestamps (`createdDate`) use, so the simulator reads it as UTC.
 * @throws {IonosApiError} 400 for another format.
 */
export function parseRequestDate(name: string, raw: string): number {
  const m = raw.trim().match(/^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/);
  const ms = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
  if (Number.isNaN(ms)) {
    throw new IonosApiError(400, `Query parameter '${name}' must be 'yyyy-MM-dd HH:mm:ss'`);
  }
  return ms;
}

/**
 * Reads the parameters of `GET /requests`.
 * @throws {IonosApiError} 400 for a bad value, an unknown filter, or a substring filter at
 *   depth 0 (documented as needing depth > 0; refusing makes the mistake visible).
 */
export function parseRequestsQuery(url: URL): RequestsQuery {
  const q: RequestsQuery = {
    depth: intParam(url, "depth", 0, 0, MAX_DEPTH),
    offset: intParam(url, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
    limit: intParam(url, "limit", REQUESTS_DEFAULT_LIMIT, 1, MAX_LIMIT),
    contains: new Map(),
  };
  for (const [key, value] of url.searchParams) {
    if (!key.startsWith("filter.")) continue;
    const name = key.slice("filter.".length);
    if (name === "status") {
      const upper = value.toUpperCase();
      if (!STATES.includes(upper)) {
        throw new IonosApiError(400, `filter.status must be one of ${STATES.join(", ")}`);
      }
      q.status = upper as IonosRequestState;
    } else if (name === "createdAfter") q.createdAfter = parseRequestDate(key, value);
    else if (name === "createdBefore") q.createdBefore = parseRequestDate(key, value);
    else if ((SUBSTRING_FILTERS as readonly string[]).includes(name)) {
      if (q.depth < 1) throw new IonosApiError(400, `Filter '${key}' needs depth > 0`);
      q.contains.set(name as SubstringFilter, value.toLowerCase());
    } else throw new IonosApiError(400, `Unknown filter property '${name}'`);
  }
  return q;
}

/** True if `r` passes every filter of `q`; `state` is the request's state now. */
export function requestMatches(
  r: RequestRecord,
  state: IonosRequestState,
  q: RequestsQuery,
): boolean {
  if (q.status !== undefined && state !== q.status) return false;
  if (q.createdAfter !== undefined && !(r.createdAt > q.createdAfter)) return false;
  if (q.createdBefore !== undefined && !(r.createdAt < q.createdBefore)) return false;
  for (const [name, wanted] of q.contains) {
    if (!substringValue(r, state, name).toLowerCase().includes(wanted)) return false;
  }
  return true;
}

function substringValue(r: RequestRecord, state: IonosRequestState, name: SubstringFilter) {
  switch (name) {
    case "createdDate":
      return new Date(r.createdAt).toISOString();
    case "createdBy":
      return r.createdBy;
    case "etag":
      return r.etag;
    case "requestStatus":
      return state;
    case "method":
      return r.call.method;
    case "headers":
      return JSON.stringify(r.call.headers);
    case "body":
      return r.call.body;
    case "url":
      return r.call.url;
  }
}
