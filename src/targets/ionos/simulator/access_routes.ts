/**
 * Group shares, shareable resources and S3 keys, below `/cloudapi/v6`, as the v6 REST reference
 * (shares, /um/resources) and the v5 reference (s3keys, same paths in v6) show them. Writes
 * answer 202 with a `Location` to their request, like every other UM write, and are undone
 * should the request end FAILED. They pass the same gateway (rate limit, auth, faults) as the
 * UM routes, since they are registered under the same base path.
 */
import type { Context, Hono } from "hono";
import type { ResourceType, SimAccess, SimS3Key, SimShare } from "./access_state.ts";
import { RESOURCE_TYPES } from "./access_state.ts";
import { IonosApiError } from "./errors.ts";
import { parseListQuery } from "./query.ts";
import type { RequestTarget, RequestTracker } from "./requests.ts";
import type { SimState } from "./state.ts";
import { API_BASE, callOf, readJson } from "./um_routes.ts";

/** What the routes work on. */
export interface AccessDeps {
  state: SimState;
  access: SimAccess;
  requests: RequestTracker;
  /** Refuse writes on a group or user whose create request is not DONE yet. */
  requireCreateDone: boolean;
}

type Json = Record<string, unknown>;

/** Mounts the share, resource and S3 key routes on `app`. */
export function registerAccessRoutes(app: Hono, deps: AccessDeps): void {
  const { access, requests } = deps;
  const P = API_BASE;
  const baseOf = (c: Context) => new URL(c.req.url).origin + API_BASE;
  const depthOf = (c: Context): number => parseListQuery(new URL(c.req.url)).depth;

  const accepted = (
    c: Context,
    w: { target: RequestTarget; sent?: unknown; body?: Json },
    undo: () => void,
  ) => {
    const rid = requests.create({ targets: [w.target], call: callOf(c, w.sent), undo });
    c.header("Location", `${baseOf(c)}/requests/${rid}/status`);
    return w.body === undefined ? c.body(null, 202) : c.json(w.body, 202);
  };
  const ready = (id: string, type: "user" | "group"): void => {
    const pending = deps.requireCreateDone ? requests.pendingCreate(id) : undefined;
    if (pending) {
      throw new IonosApiError(422, `The ${type} ${id} is still being created (request ${pending})`);
    }
  };

  // --- shares
  const shareHref = (c: Context, gid: string, rid: string) =>
    `${baseOf(c)}/um/groups/${gid}/shares/${rid}`;
  const renderShare = (c: Context, gid: string, s: SimShare): Json => ({
    id: s.resourceId,
    type: "resource",
    href: shareHref(c, gid, s.resourceId),
    properties: { editPrivilege: s.editPrivilege, sharePrivilege: s.sharePrivilege },
  });
  app.get(`${P}/um/groups/:id/shares`, (c) => {
    const gid = c.req.param("id");
    const depth = depthOf(c);
    const items = access.shares(gid).map((s) => {
      const full = renderShare(c, gid, s);
      return depth === 0 ? { id: full.id, type: full.type, href: full.href } : full;
    });
    return c.json({
      id: `${gid}/shares`,
      type: "collection",
      href: `${baseOf(c)}/um/groups/${gid}/shares`,
      items,
    });
  });
  app.get(`${P}/um/groups/:id/shares/:resourceId`, (c) => {
    const gid = c.req.param("id");
    return c.json(renderShare(c, gid, access.share(gid, c.req.param("resourceId"))));
  });
  app.post(`${P}/um/groups/:id/shares/:resourceId`, async (c) => {
    const gid = c.req.param("id");
    const rid = c.req.param("resourceId");
    const sent = await readJson(c);
    const flags = parseShare(sent);
    access.shares(gid); // 404 for a missing group before anything else
    ready(gid, "group");
    const s = access.addShare(gid, rid, flags);
    const undo = () => access.removeShare(gid, rid);
    return accepted(
      c,
      { target: { id: gid, type: "group" }, sent, body: renderShare(c, gid, s) },
      undo,
    );
  });
  app.put(`${P}/um/groups/:id/shares/:resourceId`, async (c) => {
    const gid = c.req.param("id");
    const rid = c.req.param("resourceId");
    const text = await c.req.text();
    const before = access.share(gid, rid);
    // "With an empty body, no updates are performed, and the current share permissions for the
    // group are returned with response code 200" (v6 REST reference).
    if (text.trim() === "") return c.json(renderShare(c, gid, before), 200);
    const sent = parseJsonText(c, text);
    const flags = parseShare(sent);
    ready(gid, "group");
    const s = access.updateShare(gid, rid, flags);
    const undo = () => access.updateShare(gid, rid, before);
    return accepted(
      c,
      { target: { id: gid, type: "group" }, sent, body: renderShare(c, gid, s) },
      undo,
    );
  });
  app.delete(`${P}/um/groups/:id/shares/:resourceId`, (c) => {
    const gid = c.req.param("id");
    const rid = c.req.param("resourceId");
    const before = access.share(gid, rid);
    ready(gid, "group");
    access.removeShare(gid, rid);
    const undo = () => access.addShare(gid, rid, before);
    return accepted(c, { target: { id: gid, type: "group" } }, undo);
  });

  // --- resources
  const renderResource = (c: Context, r: ReturnType<SimAccess["resources"]>[number]): Json => ({
    id: r.id,
    type: r.resourceType,
    href: `${baseOf(c)}/um/resources/${r.resourceType}/${r.id}`,
    metadata: { createdDate: r.createdDate, state: "AVAILABLE" },
    properties: { name: r.name, secAuthProtection: false },
  });
  const resourceList = (c: Context, resourceType?: string) => {
    const depth = depthOf(c);
    const items = access.resources(resourceType).map((r) => {
      const full = renderResource(c, r);
      return depth === 0 ? { id: full.id, type: full.type, href: full.href } : full;
    });
    return c.json({
      id: "resources",
      type: "collection",
      href: `${baseOf(c)}/um/resources${resourceType ? `/${resourceType}` : ""}`,
      items,
    });
  };
  const knownType = (t: string) => {
    if (!(RESOURCE_TYPES as readonly string[]).includes(t)) {
      throw new IonosApiError(
        404,
        `Unknown resource type '${t}' (known: ${RESOURCE_TYPES.join(", ")})`,
      );
    }
    return t;
  };
  app.get(`${P}/um/resources`, (c) => resourceList(c));
  app.get(`${P}/um/resources/:type`, (c) => resourceList(c, knownType(c.req.param("type"))));
  app.get(`${P}/um/resources/:type/:id`, (c) => {
    const type = knownType(c.req.param("type"));
    const r = access.resource(c.req.param("id"));
    if (!r || r.resourceType !== type) {
      throw new IonosApiError(404, `Resource does not exist: ${type} ${c.req.param("id")}`);
    }
    return c.json(renderResource(c, r));
  });

  // --- S3 keys
  const keyHref = (c: Context, uid: string, kid: string) =>
    `${baseOf(c)}/um/users/${uid}/s3keys/${kid}`;
  const renderKey = (c: Context, uid: string, k: SimS3Key): Json => ({
    id: k.id,
    type: "s3key",
    href: keyHref(c, uid, k.id),
    metadata: { createdDate: k.createdDate },
    properties: { secretKey: k.secretKey, active: k.active },
  });
  app.get(`${P}/um/users/:id/s3keys`, (c) => {
    const uid = c.req.param("id");
    const depth = depthOf(c);
    const items = access.s3Keys(uid).map((k) => {
      const full = renderKey(c, uid, k);
      return depth === 0 ? { id: full.id, type: full.type, href: full.href } : full;
    });
    return c.json({
      id: `${uid}/s3keys`,
      type: "collection",
      href: `${baseOf(c)}/um/users/${uid}/s3keys`,
      items,
    });
  });
  app.post(`${P}/um/users/:id/s3keys`, (c) => {
    const uid = c.req.param("id");
    ready(uid, "user");
    const k = access.addS3Key(uid);
    const undo = () => access.deleteS3Key(uid, k.id);
    return accepted(c, { target: { id: uid, type: "user" }, body: renderKey(c, uid, k) }, undo);
  });
  app.get(`${P}/um/users/:id/s3keys/:keyId`, (c) => {
    const uid = c.req.param("id");
    return c.json(renderKey(c, uid, access.s3Key(uid, c.req.param("keyId"))));
  });
  app.put(`${P}/um/users/:id/s3keys/:keyId`, async (c) => {
    const uid = c.req.param("id");
    const kid = c.req.param("keyId");
    const sent = await readJson(c);
    const active = parseKey(sent);
    const before = access.s3Key(uid, kid);
    ready(uid, "user");
    const k = access.setS3KeyActive(uid, kid, active);
    const undo = () => access.setS3KeyActive(uid, kid, before.active);
    // The request keeps the body as sent ({properties: {active}}): no secret in it.
    return accepted(
      c,
      { target: { id: uid, type: "user" }, sent, body: renderKey(c, uid, k) },
      undo,
    );
  });
  app.delete(`${P}/um/users/:id/s3keys/:keyId`, (c) => {
    const uid = c.req.param("id");
    const kid = c.req.param("keyId");
    const before = access.s3Key(uid, kid);
    ready(uid, "user");
    access.deleteS3Key(uid, kid);
    return accepted(
      c,
      { target: { id: uid, type: "user" } },
      () => access.restoreS3Key(uid, before),
    );
  });

  // Known paths with another method: 405, as IONOS answers.
  for (
    const path of [
      "/um/groups/:id/shares",
      "/um/groups/:id/shares/:resourceId",
      "/um/resources",
      "/um/resources/:type",
      "/um/resources/:type/:id",
      "/um/users/:id/s3keys",
      "/um/users/:id/s3keys/:keyId",
    ]
  ) {
    app.all(`${P}${path}`, (c) => {
      throw new IonosApiError(405, `Method ${c.req.method} is not allowed on ${c.req.path}`);
    });
  }
}

function parseJsonText(c: Context, text: string): unknown {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new IonosApiError(415, `Unsupported content type '${type}': use application/json`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new IonosApiError(400, "Failed to parse request body: not valid JSON");
  }
}

/** `{type?: "resource", properties: {editPrivilege?, sharePrivilege?}}`; 422 otherwise. */
function parseShare(body: unknown): Partial<Omit<SimShare, "resourceId">> {
  const b = body as { type?: unknown; properties?: unknown } | null;
  if (b?.type !== undefined && b.type !== "resource") {
    throw new IonosApiError(422, `Attribute 'type' must be 'resource'`);
  }
  const p = b?.properties;
  if (typeof p !== "object" || p === null || Array.isArray(p)) {
    throw new IonosApiError(422, "Attribute 'properties' is required and must be an object");
  }
  const out: Partial<Omit<SimShare, "resourceId">> = {};
  for (const key of ["editPrivilege", "sharePrivilege"] as const) {
    const v = (p as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "boolean") {
      throw new IonosApiError(422, `Attribute '${key}' must be a boolean`);
    }
    out[key] = v;
  }
  return out;
}

/** `{properties: {active: boolean}}`: the only thing a key PUT changes ("enable or disable"). */
function parseKey(body: unknown): boolean {
  const p = (body as { properties?: unknown } | null)?.properties;
  const active = (p as Record<string, unknown> | null | undefined)?.active;
  if (typeof active !== "boolean") {
    throw new IonosApiError(
      422,
      "Attribute 'properties.active' is mandatory and must be a boolean",
    );
  }
  return active;
}

/**
 * `/__sim/*` controls for what a person makes in the console: resources to share and S3 keys,
 * so dev mode and out-of-process tests can set them up (unauthenticated, outside the API base).
 */
export function registerAccessAdminRoutes(app: Hono, access: SimAccess): void {
  // Body: {type: "datacenter" | ..., name, id?}
  app.post("/__sim/resources", async (c) => {
    const body = await c.req.json().catch(() => undefined) as
      | { type?: unknown; name?: unknown; id?: unknown }
      | undefined;
    const type = body?.type;
    if (typeof type !== "string" || !(RESOURCE_TYPES as readonly string[]).includes(type)) {
      return c.json({ error: `type must be one of ${RESOURCE_TYPES.join(", ")}` }, 400);
    }
    const name = typeof body?.name === "string" ? body.name : type;
    const id = typeof body?.id === "string" ? body.id : undefined;
    return c.json(access.addResource(type as ResourceType, name, id), 201);
  });
  app.get("/__sim/resources", (c) => c.json(access.resources()));
  // Creates an S3 key for a user; `?active=false` makes it inactive. The answer has no secret.
  app.post("/__sim/users/:id/s3keys", (c) => {
    try {
      const k = access.addS3Key(c.req.param("id"), c.req.query("active") !== "false");
      return c.json({ id: k.id, active: k.active }, 201);
    } catch (e) {
      return c.json({ error: e instanceof Error ? e.message : String(e) }, 404);
    }
  });
}
