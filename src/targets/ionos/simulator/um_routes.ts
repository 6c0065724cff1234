/**
 * The IONOS Cloud API v6 User Management endpoints and request status, below `/cloudapi/v6`.
 * Writes change state at once and answer 202 with a `Location` to their request status.
 */
import type { Context, Hono } from "hono";
import { IONOS_PRIVILEGES } from "../types.ts";
import { IonosApiError } from "./errors.ts";
import { applyFilters, parseListQuery } from "./query.ts";
import {
  renderCollection,
  type RenderContext,
  renderGroup,
  renderPage,
  renderUser,
} from "./render.ts";
import type { RequestCall, RequestTarget, RequestTracker } from "./requests.ts";
import type { SimState } from "./state.ts";
import { parseGroup, parseMember, parseUserCreate, parseUserUpdate } from "./validate.ts";

/** Base path of the simulated API. */
export const API_BASE = "/cloudapi/v6";

/** What the routes work on. */
export interface UmDeps {
  state: SimState;
  requests: RequestTracker;
  /** Refuse writes on a resource whose create request is not DONE yet. */
  requireCreateDone: boolean;
}

const USER_FILTERS = [
  "firstname",
  "lastname",
  "email",
  "administrator",
  "forceSecAuth",
  "secAuthActive",
  "active",
  "s3CanonicalUserId",
] as const;
const GROUP_FILTERS = ["name", ...IONOS_PRIVILEGES] as const;

/** Mounts the UM routes on `app`. */
export function registerUmRoutes(app: Hono, deps: UmDeps): void {
  const { state, requests } = deps;
  const P = API_BASE;

  const ctxOf = (c: Context): RenderContext => ({
    base: new URL(c.req.url).origin + API_BASE,
    state,
  });
  const depthOf = (c: Context): number => parseListQuery(new URL(c.req.url)).depth;

  /**
   * 202 + Location, as every UM write answers (ionos-facts.md, "Status codes"). `undo` reverts
   * the write should its request end FAILED.
   */
  const accepted = (
    c: Context,
    w: { targets: RequestTarget[]; sent?: unknown; body?: unknown; creates?: boolean },
    undo?: () => void,
  ) => {
    const rid = requests.create({
      targets: w.targets,
      call: callOf(c, w.sent),
      creates: w.creates ?? false,
      undo,
    });
    c.header("Location", `${ctxOf(c).base}/requests/${rid}/status`);
    return w.body === undefined ? c.body(null, 202) : c.json(w.body, 202);
  };

  /** Writes on a resource still being created fail, as the Terraform ordering bug showed. */
  const ready = (id: string, type: "user" | "group"): void => {
    const pending = deps.requireCreateDone ? requests.pendingCreate(id) : undefined;
    if (pending) {
      throw new IonosApiError(422, `The ${type} ${id} is still being created (request ${pending})`);
    }
  };

  const user = (id: string) => {
    const u = state.user(id);
    if (!u) throw new IonosApiError(404, `Resource does not exist: user ${id}`);
    return u;
  };
  const group = (id: string) => {
    const g = state.group(id);
    if (!g) throw new IonosApiError(404, `Resource does not exist: group ${id}`);
    return g;
  };

  // --- users
  app.get(`${P}/um/users`, (c) => {
    const url = new URL(c.req.url);
    const q = parseListQuery(url);
    const items = applyFilters(state.users(), q.filters, USER_FILTERS);
    return c.json(renderPage(ctxOf(c), "users", url, items, q));
  });
  app.post(`${P}/um/users`, async (c) => {
    const sent = await readJson(c);
    const u = state.addUser(parseUserCreate(sent));
    const body = renderUser(ctxOf(c), u, depthOf(c));
    const targets: RequestTarget[] = [{ id: u.id, type: "user" }];
    return accepted(c, { targets, sent, body, creates: true }, () => state.deleteUser(u.id));
  });
  app.get(
    `${P}/um/users/:id`,
    (c) => c.json(renderUser(ctxOf(c), user(c.req.param("id")), depthOf(c))),
  );
  app.put(`${P}/um/users/:id`, async (c) => {
    const id = c.req.param("id");
    const sent = await readJson(c);
    const before = user(id);
    ready(id, "user");
    const u = state.updateUser(id, parseUserUpdate(sent, id));
    const body = renderUser(ctxOf(c), u, depthOf(c));
    const undo = () => state.updateUser(id, before.properties);
    return accepted(c, { targets: [{ id, type: "user" }], sent, body }, undo);
  });
  app.delete(`${P}/um/users/:id`, (c) => {
    const id = c.req.param("id");
    const before = user(id);
    ready(id, "user");
    const groups = state.userGroups(id);
    state.deleteUser(id);
    const undo = () => state.restoreUser(before, groups);
    return accepted(c, { targets: [{ id, type: "user" }] }, undo);
  });
  app.get(`${P}/um/users/:id/groups`, (c) => {
    const u = user(c.req.param("id"));
    const ctx = ctxOf(c);
    const groups = state.userGroups(u.id).map((g) => state.group(g)!);
    const href = `${ctx.base}/um/users/${u.id}/groups`;
    return c.json(renderCollection(ctx, `${u.id}/groups`, href, groups, depthOf(c)));
  });

  // --- groups
  app.get(`${P}/um/groups`, (c) => {
    const url = new URL(c.req.url);
    const q = parseListQuery(url);
    const items = applyFilters(state.groups(), q.filters, GROUP_FILTERS);
    return c.json(renderPage(ctxOf(c), "groups", url, items, q));
  });
  app.post(`${P}/um/groups`, async (c) => {
    const sent = await readJson(c);
    const g = state.addGroup(parseGroup(sent));
    const body = renderGroup(ctxOf(c), g, depthOf(c));
    const targets: RequestTarget[] = [{ id: g.id, type: "group" }];
    return accepted(c, { targets, sent, body, creates: true }, () => state.deleteGroup(g.id));
  });
  app.get(
    `${P}/um/groups/:id`,
    (c) => c.json(renderGroup(ctxOf(c), group(c.req.param("id")), depthOf(c))),
  );
  app.put(`${P}/um/groups/:id`, async (c) => {
    const id = c.req.param("id");
    const sent = await readJson(c);
    const before = group(id);
    ready(id, "group");
    const g = state.updateGroup(id, parseGroup(sent));
    const body = renderGroup(ctxOf(c), g, depthOf(c));
    const undo = () => state.updateGroup(id, before.properties);
    return accepted(c, { targets: [{ id, type: "group" }], sent, body }, undo);
  });
  app.delete(`${P}/um/groups/:id`, (c) => {
    const id = c.req.param("id");
    const before = group(id);
    ready(id, "group");
    const members = state.members(id);
    state.deleteGroup(id);
    const undo = () => state.restoreGroup(before, members);
    return accepted(c, { targets: [{ id, type: "group" }] }, undo);
  });

  // --- members
  app.get(`${P}/um/groups/:id/users`, (c) => {
    const g = group(c.req.param("id"));
    const ctx = ctxOf(c);
    const users = state.members(g.id).map((u) => state.user(u)!);
    const href = `${ctx.base}/um/groups/${g.id}/users`;
    return c.json(renderCollection(ctx, `${g.id}/users`, href, users, depthOf(c)));
  });
  app.post(`${P}/um/groups/:id/users`, async (c) => {
    const gid = c.req.param("id");
    const sent = await readJson(c);
    const uid = parseMember(sent);
    group(gid);
    user(uid);
    ready(gid, "group");
    ready(uid, "user");
    state.addMember(gid, uid);
    const body = renderUser(ctxOf(c), state.user(uid)!, depthOf(c));
    const targets: RequestTarget[] = [{ id: gid, type: "group" }, { id: uid, type: "user" }];
    return accepted(c, { targets, sent, body }, () => state.removeMember(gid, uid));
  });
  app.delete(`${P}/um/groups/:id/users/:userId`, (c) => {
    const gid = c.req.param("id");
    const uid = c.req.param("userId");
    group(gid);
    state.removeMember(gid, uid);
    const targets: RequestTarget[] = [{ id: gid, type: "group" }, { id: uid, type: "user" }];
    return accepted(c, { targets }, () => state.addMember(gid, uid));
  });

  // Known paths with another method: 405, as IONOS answers (there is no PATCH under /um).
  for (
    const path of [
      "/um/users",
      "/um/users/:id",
      "/um/users/:id/groups",
      "/um/groups",
      "/um/groups/:id",
      "/um/groups/:id/users",
      "/um/groups/:id/users/:userId",
    ]
  ) {
    app.all(`${P}${path}`, (c) => {
      throw new IonosApiError(405, `Method ${c.req.method} is not allowed on ${c.req.path}`);
    });
  }
}

/** Headers a request keeps: never Authorization (the Requests API shows them back). */
const KEPT_HEADERS = ["content-type", "x-contract-number"];

/** The call behind a request, as `GET /requests` shows it; a sent password is replaced. */
export function callOf(c: Context, sent: unknown): RequestCall {
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const v = c.req.header(name);
    if (v !== undefined) headers[name] = v;
  }
  let body = "";
  if (sent !== undefined) {
    body = JSON.stringify(sent, (k, v) => k === "password" ? "[redacted]" : v);
  }
  return { method: c.req.method, url: c.req.url, headers, body };
}

/**
 * Reads a JSON body the way IONOS does: 415 without a JSON content type, 400 if unparsable.
 * @throws {IonosApiError}
 */
export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new IonosApiError(415, `Unsupported content type '${type}': use application/json`);
  }
  try {
    return JSON.parse(await c.req.text());
  } catch {
    throw new IonosApiError(400, "Failed to parse request body: not valid JSON");
  }
}
