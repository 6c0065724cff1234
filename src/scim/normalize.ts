/**
 * Turns a client's User or Group body into the attributes we store: canonical attribute names,
 * real booleans (Entra sends "True"/"False"), unknown and read-only attributes dropped, and the
 * required ones checked. POST, PUT and the result of a PATCH all go through here.
 */
import { badRequest } from "./errors.ts";
import {
  type AttrDef,
  coreAttributes,
  findAttr,
  IGNORED_USER_ATTRIBUTES,
  resolvePath,
  type ResourceTypeDef,
} from "./schema.ts";
import { IONOS_USER_SCHEMA } from "./urns.ts";

/** The event model caps strings at 1024 characters; refusing here names the field. */
const MAX_STRING_LENGTH = 1024;
/** The event model caps a group's member list at 100 000. */
const MAX_MEMBERS = 100_000;
const MAX_VALUES = 100;

/** Stored attributes of a resource: everything but `schemas`, `id` and `meta`. */
export type Attributes = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Normalizes a resource body.
 *
 * @param type `USER_TYPE` or `GROUP_TYPE`
 * @param input the parsed JSON body (or a patched resource)
 * @throws {ScimError} 400 invalidSyntax for a non-object, invalidValue naming the bad field
 * @example
 * normalizeAttributes(USER_TYPE, { UserName: "ada@example.com", active: "False" })
 * // { userName: "ada@example.com", active: false }
 */
export function normalizeAttributes(type: ResourceTypeDef, input: unknown): Attributes {
  if (!isObject(input)) throw badRequest("invalidSyntax", "the body must be a JSON object");
  const core: Attributes = {};
  const extensions: Record<string, Attributes> = {};
  for (const [key, value] of Object.entries(input)) {
    if (/^(schemas|id|meta)$/i.test(key)) continue; // ours to set (readOnly)
    if (type.name === "User" && IGNORED_USER_ATTRIBUTES.has(key.toLowerCase())) continue;
    const resolved = resolvePath(type, key);
    // Unknown attributes and extensions are ignored, as RFC 7644 §3.3 allows.
    if (!resolved.ok || resolved.path.filter !== undefined || resolved.path.sub) continue;
    const { schema, attr } = resolved.path;
    if (schema === IONOS_USER_SCHEMA) continue;
    if (schema && !attr) {
      const ext = type.extensions.find((e) => e.schema.id === schema)!.schema;
      const complex: AttrDef = {
        name: schema,
        type: "complex",
        description: ext.description,
        subAttributes: ext.attributes,
      };
      const v = normalizeValue(complex, value, schema);
      if (v !== undefined) extensions[schema] = { ...extensions[schema], ...(v as Attributes) };
      continue;
    }
    if (!attr || attr.mutability === "readOnly" || attr.mutability === "writeOnly") continue;
    const v = normalizeValue(attr, value, schema ? `${schema}:${attr.name}` : attr.name);
    if (v === undefined) continue;
    if (schema) extensions[schema] = { ...extensions[schema], [attr.name]: v };
    else core[attr.name] = v;
  }

  const required = type.uniqueAttr;
  const name = core[required];
  if (typeof name !== "string" || name.trim() === "") {
    throw badRequest("invalidValue", `${required} is required`);
  }
  if (type.name === "User" && core.active === undefined) core.active = true;
  if (type.name === "Group" && Array.isArray(core.members)) {
    core.members = normalizeMembers(core.members as Attributes[]);
  }

  // Canonical order: common, then core schema order, then extensions. Stable JSON, stable etags.
  const out: Attributes = {};
  for (const def of coreAttributes(type)) {
    if (core[def.name] !== undefined) out[def.name] = core[def.name];
  }
  for (const { schema } of type.extensions) {
    if (extensions[schema.id]) out[schema.id] = extensions[schema.id];
  }
  return out;
}

/** Members need a `value`; repeats of the same value collapse into the first. */
function normalizeMembers(members: Attributes[]): Attributes[] {
  const seen = new Set<string>();
  const out: Attributes[] = [];
  members.forEach((m, i) => {
    if (typeof m.value !== "string" || m.value === "") {
      throw badRequest("invalidValue", `members[${i}].value is required`);
    }
    if (seen.has(m.value)) return;
    seen.add(m.value);
    out.push(m);
  });
  if (out.length > MAX_MEMBERS) {
    throw badRequest("invalidValue", `members holds more than ${MAX_MEMBERS} values`);
  }
  return out;
}

function normalizeValue(def: AttrDef, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined; // null means "unassigned"
  if (!def.multiValued) return normalizeSingle(def, value, path);
  // A single object where a list belongs is taken as a list of one.
  const items = Array.isArray(value) ? value : [value];
  if (def.name !== "members" && items.length > MAX_VALUES) {
    throw badRequest("invalidValue", `${path} holds more than ${MAX_VALUES} values`);
  }
  const out = items.map((v, i) => normalizeSingle(def, v, `${path}[${i}]`))
    .filter((v) => v !== undefined);
  return out.length ? out : undefined;
}

function normalizeSingle(def: AttrDef, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (def.type) {
    case "complex": {
      if (!isObject(value)) throw badRequest("invalidValue", `${path} must be an object`);
      const out: Attributes = {};
      for (const [key, v] of Object.entries(value)) {
        const sub = findAttr(def.subAttributes ?? [], key);
        if (!sub || sub.mutability === "readOnly") continue;
        const nv = normalizeValue(sub, v, `${path}.${sub.name}`);
        if (nv !== undefined) out[sub.name] = nv;
      }
      return Object.keys(out).length ? out : undefined;
    }
    case "boolean":
      if (typeof value === "boolean") return value;
      // Entra ID sends booleans as the strings "True" and "False".
      if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) {
        return value.trim().toLowerCase() === "true";
      }
      throw badRequest("invalidValue", `${path} must be a boolean`);
    case "integer":
    case "decimal": {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isFinite(n)) {
        throw badRequest("invalidValue", `${path} must be a number`);
      }
      return def.type === "integer" ? Math.trunc(n) : n;
    }
    default: {
      // Numbers where strings belong (employeeNumber: 42) are common and harmless.
      const s = typeof value === "number" ? String(value) : value;
      if (typeof s !== "string") throw badRequest("invalidValue", `${path} must be a string`);
      if (s.length > MAX_STRING_LENGTH) {
        throw badRequest("invalidValue", `${path} is longer than ${MAX_STRING_LENGTH} characters`);
      }
      return s;
    }
  }
}
