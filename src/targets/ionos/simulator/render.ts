/**
 * Turns state into IONOS JSON. Depth works as on IONOS: a collection at depth 0 lists bare
 * references `{id, type, href}`; each extra level expands one more layer, and an object's
 * `entities` collections are rendered one level below the object itself.
 */
import type { IonosGroup } from "../types.ts";
import type { SimState, SimUser } from "./state.ts";

/** Where hrefs point (`<origin>/cloudapi/v6`) and where related objects come from. */
export interface RenderContext {
  base: string;
  state: SimState;
}

type Json = Record<string, unknown>;
type Item = SimUser | IonosGroup;

function href(ctx: RenderContext, item: { id: string; type: string }): string {
  return `${ctx.base}/um/${item.type}s/${item.id}`;
}

/**
 * A collection: below depth 0 only its header, at 0 references, above that full items.
 * @param id Collection id; IONOS uses e.g. `<userId>/groups` for nested ones.
 */
export function renderCollection(
  ctx: RenderContext,
  id: string,
  collectionHref: string,
  items: Item[],
  depth: number,
): Json {
  const head = { id, type: "collection", href: collectionHref };
  if (depth < 0) return head;
  const rendered = items.map((i) =>
    depth === 0 ? { id: i.id, type: i.type, href: href(ctx, i) } : renderItem(ctx, i, depth - 1)
  );
  return { ...head, items: rendered };
}

/** A user or group with properties and, one level down, its entities. */
export function renderItem(ctx: RenderContext, item: Item, depth: number): Json {
  return item.type === "user" ? renderUser(ctx, item, depth) : renderGroup(ctx, item, depth);
}

/** A user; `metadata` and `properties` always, never a password (none is stored). */
export function renderUser(ctx: RenderContext, user: SimUser, depth: number): Json {
  const self = href(ctx, user);
  const groups = ctx.state.userGroups(user.id).map((g) => ctx.state.group(g)!);
  return {
    id: user.id,
    type: "user",
    href: self,
    metadata: user.metadata,
    properties: user.properties,
    entities: {
      // Owned resources (datacenters, ...) are outside the simulator: always empty.
      owns: renderCollection(ctx, `${user.id}/owns`, `${self}/owns`, [], depth - 1),
      groups: renderCollection(ctx, `${user.id}/groups`, `${self}/groups`, groups, depth - 1),
    },
  };
}

/** A group with every privilege flag; `entities.users` lists its members. */
export function renderGroup(ctx: RenderContext, group: IonosGroup, depth: number): Json {
  const self = href(ctx, group);
  const users = ctx.state.members(group.id).map((u) => ctx.state.user(u)!);
  return {
    id: group.id,
    type: "group",
    href: self,
    properties: group.properties,
    entities: {
      users: renderCollection(ctx, `${group.id}/users`, `${self}/users`, users, depth - 1),
      resources: renderCollection(ctx, `${group.id}/resources`, `${self}/resources`, [], depth - 1),
    },
  };
}

/** A top-level paged collection with `offset`, `limit` and `_links`. */
export function renderPage(
  ctx: RenderContext,
  id: string,
  url: URL,
  all: Item[],
  q: { depth: number; offset: number; limit: number },
): Json {
  const collectionHref = `${ctx.base}/um/${id}`;
  const page = all.slice(q.offset, q.offset + q.limit);
  const link = (offset: number): string => {
    const u = new URL(url);
    u.searchParams.set("offset", String(offset));
    u.searchParams.set("limit", String(q.limit));
    return u.toString();
  };
  const links: Record<string, string> = { self: link(q.offset) };
  if (q.offset > 0) links.prev = link(Math.max(0, q.offset - q.limit));
  if (q.offset + q.limit < all.length) links.next = link(q.offset + q.limit);
  return {
    ...renderCollection(ctx, id, collectionHref, page, q.depth),
    offset: q.offset,
    limit: q.limit,
    _links: links,
  };
}
