/**
 * The v6 Requests API below `/cloudapi/v6`: `GET /requests` (list), `GET /requests/{id}` and
 * `GET /requests/{id}/status`, with shapes from the SDK documentation (sdk-python
 * docs/models/Request.md, RequestMetadata.md, Requests.md, RequestStatus.md).
 *
 * Depth works as on the other collections: the list at depth 0 holds references; at depth 1 each
 * request has `metadata` and `properties` with `metadata.requestStatus` as a reference; from
 * depth 2 the status (state, message, targets) is inline. ionosctl lists requests at depth 2 by
 * default to show their status (docs/subcommands/compute/request/list.md).
 */
import type { Context, Hono } from "hono";
import { IonosApiError } from "./errors.ts";
import type { RequestRecord, RequestTracker } from "./requests.ts";
import { parseRequestsQuery, requestMatches } from "./requests_query.ts";
import { API_BASE } from "./um_routes.ts";

type Json = Record<string, unknown>;

/** A Request at `depth`: references below 0, the status inline from 1. */
function renderRequest(requests: RequestTracker, r: RequestRecord, base: string, depth: number) {
  const href = `${base}/requests/${r.id}`;
  if (depth < 0) return { id: r.id, type: "request", href };
  const status = requests.statusOf(r, base);
  return {
    id: r.id,
    type: "request",
    href,
    metadata: {
      createdDate: new Date(r.createdAt).toISOString(),
      createdBy: r.createdBy,
      etag: r.etag,
      requestStatus: depth >= 1 ? status : { id: status.id, type: status.type, href: status.href },
    },
    properties: { ...r.call },
  };
}

/** Mounts the Requests routes on `app`. */
export function registerRequestRoutes(app: Hono, requests: RequestTracker): void {
  const P = API_BASE;
  const baseOf = (c: Context) => new URL(c.req.url).origin + API_BASE;
  const find = (id: string): RequestRecord => {
    const r = requests.get(id);
    if (!r) throw new IonosApiError(404, `Resource does not exist: request ${id}`);
    return r;
  };

  app.get(`${P}/requests`, (c) => {
    const url = new URL(c.req.url);
    const q = parseRequestsQuery(url);
    const base = baseOf(c);
    const all = requests.newestFirst().filter((r) => requestMatches(r, requests.stateOf(r), q));
    const page = all.slice(q.offset, q.offset + q.limit);
    const link = (offset: number): string => {
      const u = new URL(url);
      u.searchParams.set("offset", String(offset));
      u.searchParams.set("limit", String(q.limit));
      return u.toString();
    };
    const links: Json = { self: link(q.offset) };
    if (q.offset > 0) links.prev = link(Math.max(0, q.offset - q.limit));
    if (q.offset + q.limit < all.length) links.next = link(q.offset + q.limit);
    return c.json({
      id: "requests",
      type: "collection",
      href: `${base}/requests`,
      items: page.map((r) => renderRequest(requests, r, base, q.depth - 1)),
      offset: q.offset,
      limit: q.limit,
      _links: links,
    });
  });
  app.get(`${P}/requests/:id`, (c) => {
    const depth = parseRequestsQuery(new URL(c.req.url)).depth;
    return c.json(renderRequest(requests, find(c.req.param("id")), baseOf(c), depth));
  });
  app.get(`${P}/requests/:id/status`, (c) => {
    return c.json(requests.statusOf(find(c.req.param("id")), baseOf(c)));
  });
  for (const path of ["/requests", "/requests/:id", "/requests/:id/status"]) {
    app.all(`${P}${path}`, (c) => {
      throw new IonosApiError(405, `Method ${c.req.method} is not allowed on ${c.req.path}`);
    });
  }
}
