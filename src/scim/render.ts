/**
 * Stored resource -> SCIM answer: `meta.location`, the IONOS twin extension on users, and the
 * `attributes` / `excludedAttributes` projection (RFC 7644 §3.9).
 */
import { definedProps } from "../defined_props.ts";
import type { IonosTwin } from "../targets/ionos/records.ts";
import { type Attributes, isObject } from "./normalize.ts";
import { type ResolvedPath, resolvePath, type ResourceTypeDef } from "./schema.ts";
import type { StoredDoc } from "./store.ts";
import { IONOS_USER_SCHEMA } from "./urns.ts";

export interface Projection {
  /** Only these (plus `id` and `schemas`). */
  attributes?: ResolvedPath[] | undefined;
  /** All but these. Ignored when `attributes` is given. */
  excluded?: ResolvedPath[] | undefined;
}

export interface RenderOptions extends Projection {
  /** The SCIM base URL, e.g. `https://sync.example.com/scim/v2`. */
  baseUrl: string;
  /** The user's IONOS twin, from `IonosRecords`. */
  twin?: IonosTwin | undefined;
}

/**
 * Parses an `attributes` / `excludedAttributes` list. Unknown names are ignored: RFC 7644 gives
 * no error for them, and clients send attributes of extensions we don't keep.
 */
export function parseAttributeList(
  type: ResourceTypeDef,
  text: string | undefined,
): ResolvedPath[] | undefined {
  if (!text) return undefined;
  const out: ResolvedPath[] = [];
  for (const part of text.split(",")) {
    const r = part.trim() ? resolvePath(type, part.trim()) : undefined;
    if (r?.ok && r.path.filter === undefined) out.push(r.path);
  }
  return out;
}

/** The read-only extension showing the user's IONOS twin; unset (or empty) fields are left out. */
function twinExtension(twin: IonosTwin | undefined): Attributes {
  return definedProps({
    ionosUserId: twin?.ionosId || undefined,
    syncState: twin?.state ?? "pending",
    lastResult: twin?.lastResult || undefined,
    lastError: twin?.lastError || undefined,
    lastSyncAt: twin?.lastSyncAt || undefined,
  });
}

/**
 * Renders a stored resource as the client sees it.
 *
 * @example
 * renderResource(USER_TYPE, doc, { baseUrl, twin, excluded: parseAttributeList(USER_TYPE, "emails") })
 */
export function renderResource(
  type: ResourceTypeDef,
  doc: StoredDoc,
  options: RenderOptions,
): Attributes {
  const out: Attributes = structuredClone(doc);
  if (type.name === "User") {
    out.schemas = [...doc.schemas, IONOS_USER_SCHEMA];
    out[IONOS_USER_SCHEMA] = twinExtension(options.twin);
  }
  // meta last, as most implementations print it.
  const { meta, ...rest } = out;
  const rendered: Attributes = {
    ...rest,
    meta: { ...(meta as object), location: `${options.baseUrl}${type.endpoint}/${doc.id}` },
  };
  return project(rendered, options);
}

function project(resource: Attributes, projection: Projection): Attributes {
  if (projection.attributes?.length) {
    const out: Attributes = { schemas: resource.schemas, id: resource.id };
    for (const path of projection.attributes) copyPath(resource, out, path);
    return out;
  }
  if (projection.excluded?.length) {
    for (const path of projection.excluded) deletePath(resource, path);
  }
  return resource;
}

function copyPath(src: Attributes, dst: Attributes, path: ResolvedPath): void {
  if (!path.attr) {
    if (path.schema && src[path.schema] !== undefined) dst[path.schema] = src[path.schema];
    return;
  }
  const from = path.schema ? src[path.schema] : src;
  if (!isObject(from)) return;
  const value = from[path.attr.name];
  if (value === undefined) return;
  const to: Attributes = path.schema ? ((dst[path.schema] as Attributes) ??= {}) : dst;
  if (!path.sub) {
    to[path.attr.name] = value;
    return;
  }
  const sub = path.sub.name;
  if (Array.isArray(value)) {
    const prior = Array.isArray(to[path.attr.name]) ? (to[path.attr.name] as Attributes[]) : [];
    to[path.attr.name] = value.map((item: Attributes, i) => ({
      ...prior[i],
      ...(item[sub] !== undefined ? { [sub]: item[sub] } : {}),
    }));
  } else if (isObject(value) && value[sub] !== undefined) {
    to[path.attr.name] = { ...(to[path.attr.name] as Attributes), [sub]: value[sub] };
  }
}

function deletePath(resource: Attributes, path: ResolvedPath): void {
  if (!path.attr) {
    if (!path.schema) return;
    delete resource[path.schema];
    resource.schemas = (resource.schemas as string[]).filter((s) => s !== path.schema);
    return;
  }
  if (path.attr.returned === "always") return; // `id` cannot be excluded
  const holder = path.schema ? resource[path.schema] : resource;
  if (!isObject(holder)) return;
  if (!path.sub) {
    delete holder[path.attr.name];
    return;
  }
  const value = holder[path.attr.name];
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) if (isObject(item)) delete item[path.sub.name];
}
