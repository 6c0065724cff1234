/**
 * SCIM PATCH (RFC 7644 §3.5.2) on a stored resource. The `scim-patch` library applies the
 * operations; this module first brings what real clients send into the shape it handles:
 *
 * - Entra ID's capitalised ops ("Replace", "Add", "Remove");
 * - attribute names in any case, core-URN-prefixed paths and keys
 *   (`urn:ietf:params:scim:schemas:core:2.0:User:userName`);
 * - member removal by value list (`{"op":"Remove","path":"members","value":[{"value":"id"}]}`),
 *   which the library would compare as whole objects and miss when `display` differs;
 * - a `remove` with a value filter on an empty list, which is a no-op, not an error;
 * - an `id` equal to the resource's own inside a no-path value (Okta group renames).
 *
 * Booleans sent as strings ("False") are fixed afterwards by `normalizeAttributes`.
 */
import { scimPatch, type ScimPatchOperation } from "scim-patch";
import { parse as parseFilterText } from "scim2-parse-filter";
import { definedProps } from "../defined_props.ts";
import { badRequest, ScimError } from "./errors.ts";
import { type Attributes, isObject } from "./normalize.ts";
import {
  IGNORED_USER_ATTRIBUTES,
  isReadOnly,
  type ResolvedPath,
  resolvePath,
  type ResourceTypeDef,
} from "./schema.ts";
import { PATCH_OP } from "./urns.ts";

/** More operations than any IdP sends in one request; protects the event loop. */
const MAX_OPERATIONS = 1000;

type Op = "add" | "remove" | "replace";
interface Operation {
  op: Op;
  path?: string;
  value?: unknown;
}

/**
 * Applies a PatchOp body to a resource's attributes.
 *
 * @param resource stored attributes, including `id` (used to accept an unchanged `id`)
 * @returns the patched attributes, not yet normalized
 * @throws {ScimError} 400 invalidSyntax / invalidPath / noTarget / mutability / invalidValue
 * @example
 * applyPatch(USER_TYPE, user, {
 *   schemas: [PATCH_OP],
 *   Operations: [{ op: "Replace", value: { active: "False" } }],
 * });
 */
export function applyPatch(type: ResourceTypeDef, resource: Attributes, body: unknown): Attributes {
  const operations = readOperations(body);
  let doc = structuredClone(resource);
  for (const [i, raw] of operations.entries()) {
    for (const op of prepare(type, doc, raw, i)) doc = applyOne(doc, op, i);
  }
  return doc;
}

function readOperations(body: unknown): unknown[] {
  if (!isObject(body)) throw badRequest("invalidSyntax", "the body must be a JSON object");
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_OP)) {
    throw badRequest("invalidSyntax", `schemas must contain "${PATCH_OP}"`);
  }
  // Some clients capitalise only the first letter ("operations"); accept any case.
  const key = Object.keys(body).find((k) => k.toLowerCase() === "operations");
  const ops = key === undefined ? undefined : body[key];
  if (!Array.isArray(ops) || ops.length === 0) {
    throw badRequest("invalidSyntax", "Operations must be a non-empty array");
  }
  if (ops.length > MAX_OPERATIONS) {
    throw badRequest("invalidSyntax", `Operations holds more than ${MAX_OPERATIONS} operations`);
  }
  return ops;
}

/** Validates one raw operation and rewrites it into operations the library handles. */
function prepare(type: ResourceTypeDef, doc: Attributes, raw: unknown, i: number): Operation[] {
  const where = `Operations[${i}]`;
  if (!isObject(raw)) throw badRequest("invalidSyntax", `${where} must be an object`);
  const opName = typeof raw.op === "string" ? raw.op.toLowerCase() : undefined;
  if (opName !== "add" && opName !== "remove" && opName !== "replace") {
    throw badRequest("invalidSyntax", `${where}.op must be add, remove or replace`);
  }
  const op: Op = opName;
  const hasValue = "value" in raw && raw.value !== undefined;
  if (raw.path !== undefined && raw.path !== null && typeof raw.path !== "string") {
    throw badRequest("invalidPath", `${where}.path must be a string`);
  }
  const pathText = typeof raw.path === "string" && raw.path.trim() !== "" ? raw.path : undefined;

  if (pathText === undefined) {
    if (op === "remove") throw badRequest("noTarget", `${where}: remove needs a path`);
    if (!isObject(raw.value)) {
      throw badRequest("invalidValue", `${where}.value must be an object when there is no path`);
    }
    return [{ op, value: canonicalKeys(type, doc, raw.value, where) }];
  }

  const path = resolveForPatch(type, pathText, where);
  if (!path) return []; // an attribute we accept and drop (password, roles, unknown extension)
  if (op !== "remove" && !hasValue) {
    throw badRequest("invalidValue", `${where}: ${op} needs a value`);
  }
  if (op === "remove" && path.filter !== undefined && !hasItems(doc, path)) {
    return []; // nothing to remove from an empty list
  }
  // Remove by value list: one filtered remove per listed value (Entra ID's member removal).
  if (op === "remove" && hasValue && path.attr?.multiValued && path.filter === undefined) {
    const values = Array.isArray(raw.value) ? raw.value : [raw.value];
    const ops: Operation[] = [];
    for (const [j, v] of values.entries()) {
      const id = isObject(v) ? v.value : v;
      if (typeof id !== "string") {
        throw badRequest("invalidValue", `${where}.value[${j}].value must be a string`);
      }
      if (!hasItems(doc, path)) break;
      ops.push({ op: "remove", path: `${path.canonical}[value eq ${JSON.stringify(id)}]` });
    }
    return ops;
  }
  // Without a value key when there is none: scim-patch checks `"value" in operation`.
  return [definedProps({ op, path: path.canonical, value: hasValue ? raw.value : undefined })];
}

/** Resolves an operation's path; `undefined` for attributes we accept and ignore. */
function resolveForPatch(
  type: ResourceTypeDef,
  text: string,
  where: string,
): ResolvedPath | undefined {
  const r = resolvePath(type, text);
  if (!r.ok) {
    if (r.problem === "unknownSchema") return undefined; // an extension we don't keep
    const top = text.replace(/^urn:.*:/i, "").split(/[.[]/)[0]!.toLowerCase();
    if (type.name === "User" && IGNORED_USER_ATTRIBUTES.has(top)) return undefined;
    throw badRequest("invalidPath", `${where}.path: ${r.detail}`);
  }
  if (isReadOnly(r.path)) {
    throw badRequest("mutability", `${where}.path: "${r.path.canonical}" is read-only`);
  }
  if (r.path.filter !== undefined) {
    try {
      parseFilterText(r.path.filter);
    } catch (e) {
      throw badRequest("invalidPath", `${where}.path: bad filter: ${(e as Error).message}`);
    }
  }
  return r.path;
}

/** Rewrites the keys of a no-path value (`"name.givenName"`, URN keys) to canonical paths. */
function canonicalKeys(
  type: ResourceTypeDef,
  doc: Attributes,
  value: Record<string, unknown>,
  where: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (/^schemas$/i.test(key)) continue;
    if (/^id$/i.test(key)) {
      // Okta repeats the group's own id in renames; changing it is not allowed.
      if (v === doc.id) continue;
      throw badRequest("mutability", `${where}.value: id is read-only`);
    }
    const r = resolvePath(type, key);
    if (!r.ok) {
      if (r.problem === "unknownSchema" || r.problem === "unknownAttribute") continue;
      throw badRequest("invalidPath", `${where}.value: ${r.detail}`);
    }
    if (r.path.filter !== undefined) {
      throw badRequest("invalidPath", `${where}.value: "${key}" cannot hold a value filter`);
    }
    if (isReadOnly(r.path)) {
      throw badRequest("mutability", `${where}.value: "${r.path.canonical}" is read-only`);
    }
    out[r.path.canonical] = v;
  }
  return out;
}

/** Whether the multi-valued attribute at `path` holds any item now. */
function hasItems(doc: Attributes, path: ResolvedPath): boolean {
  const holder = path.schema ? doc[path.schema] : doc;
  const list = isObject(holder) ? holder[path.attr!.name] : undefined;
  return Array.isArray(list) && list.length > 0;
}

function applyOne(doc: Attributes, op: Operation, i: number): Attributes {
  try {
    return scimPatch(doc as never, [op as ScimPatchOperation], {
      mutateDocument: true,
      treatMissingAsAdd: true,
    }) as unknown as Attributes;
  } catch (e) {
    if (e instanceof ScimError) throw e;
    const code = (e as { scimCode?: string }).scimCode;
    const detail = `Operations[${i}]: ${(e as Error).message}`;
    if (code === "noTarget") throw badRequest("noTarget", detail);
    throw badRequest(code === "invalidPath" ? "invalidPath" : "invalidValue", detail);
  }
}
