/**
 * `/Users` and `/Groups`: POST, GET (one or a filtered list), PUT, PATCH, DELETE. Answers come
 * from the SCIM store at once; IONOS follows through the sync queue.
 */
import { type Context, Hono } from "hono";
import type { IonosRecords, IonosTwin } from "../targets/ionos/records.ts";
import { badRequest, ScimError, scimJson } from "./errors.ts";
import { findResources, parseListQuery } from "./list.ts";
import { parseAttributeList, renderResource } from "./render.ts";
import type { ResourceTypeDef } from "./schema.ts";
import { etagOf, type ScimStore, type StoredResource } from "./store.ts";
import { LIST_RESPONSE } from "./urns.ts";
import { guard, type ScimWriter } from "./writer.ts";

export interface ResourceRoutesOptions {
  store: ScimStore;
  writer: ScimWriter;
  records: IonosRecords;
  /** The SCIM base URL of a request, for `meta.location` and `Location`. */
  baseUrl: (c: Context) => string;
}

/** Reads a JSON body sent as application/json or application/scim+json. */
async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type");
  // No Content-Type at all is tolerated: some clients omit it on PATCH.
  if (type !== undefined && !/^application\/(scim\+)?json\b/i.test(type)) {
    throw new ScimError(415, "send application/scim+json or application/json");
  }
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest("invalidSyntax", `the body is not JSON: ${(e as Error).message}`);
  }
}

/**
 * The routes of one resource type, to mount at its endpoint.
 *
 * @example
 * app.route("/Users", resourceRoutes(USER_TYPE, { store, writer, records, baseUrl }));
 */
export function resourceRoutes(type: ResourceTypeDef, options: ResourceRoutesOptions): Hono {
  const { store, writer, records, baseUrl } = options;
  const app = new Hono();

  /**
   * The users' IONOS twins. Best effort: after a write was stored, failing to read the twin
   * must not turn the answer into an error the client would retry.
   */
  // One round trip for a whole page; a failure only hides the twins, never the resources.
  const twinsOf = (resources: StoredResource[]): Promise<(IonosTwin | undefined)[]> =>
    type.name === "User"
      ? records.getMany("user", resources.map((r) => r.doc.id))
        .catch(() => resources.map(() => undefined))
      : Promise.resolve(resources.map(() => undefined));

  /** One resource as answer, with its ETag, honouring `attributes` / `excludedAttributes`. */
  const answer = async (c: Context, resource: StoredResource, status: 200 | 201 = 200) => {
    const [twin] = await twinsOf([resource]);
    const attributes = parseAttributeList(type, c.req.query("attributes"));
    const excluded = parseAttributeList(type, c.req.query("excludedAttributes"));
    const body = renderResource(type, resource.doc, {
      baseUrl: baseUrl(c),
      twin,
      attributes,
      excluded,
    });
    c.header("ETag", etagOf(resource.version));
    if (status === 201) c.header("Location", (body.meta as { location: string }).location);
    return scimJson(c, body, status);
  };

  app.get("/", async (c) => {
    const q = parseListQuery(type, new URL(c.req.url).searchParams);
    const { total, page } = await guard(findResources(store, type, q));
    const twins = await twinsOf(page);
    const base = baseUrl(c);
    return scimJson(c, {
      schemas: [LIST_RESPONSE],
      totalResults: total,
      startIndex: q.startIndex,
      itemsPerPage: page.length,
      Resources: page.map((r, i) =>
        renderResource(type, r.doc, {
          baseUrl: base,
          twin: twins[i],
          attributes: q.attributes,
          excluded: q.excluded,
        })
      ),
    });
  });

  app.post("/", async (c) => answer(c, await writer.create(type, await readJson(c)), 201));

  app.get("/:id", async (c) => {
    const resource = await guard(store.get(type.name, c.req.param("id")));
    if (!resource) {
      throw new ScimError(404, `${type.name} "${c.req.param("id")}" not found`, "noTarget");
    }
    const ifNoneMatch = c.req.header("if-none-match");
    if (ifNoneMatch?.split(",").map((t) => t.trim()).includes(etagOf(resource.version))) {
      return c.body(null, 304, { ETag: etagOf(resource.version) });
    }
    return await answer(c, resource);
  });

  app.put("/:id", async (c) => {
    const body = await readJson(c);
    return answer(c, await writer.replace(type, c.req.param("id"), body, c.req.header("if-match")));
  });

  app.patch("/:id", async (c) => {
    const body = await readJson(c);
    return answer(c, await writer.patch(type, c.req.param("id"), body, c.req.header("if-match")));
  });

  app.delete("/:id", async (c) => {
    await writer.remove(type, c.req.param("id"), c.req.header("if-match"));
    return c.body(null, 204);
  });

  return app;
}
