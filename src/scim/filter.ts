/**
 * SCIM filters (RFC 7644 §3.4.2.2): parsed by `scim2-parse-filter`, then checked against our
 * schemas and compiled to a predicate here. We evaluate ourselves because the library compares
 * case-sensitively, while SCIM says `userName`, `emails.value`, `displayName` and most other
 * strings compare case-insensitively (caseExact false).
 *
 * Supported: eq ne co sw ew gt ge lt le pr, and or not, grouping, value paths
 * (`emails[type eq "work" and value co "@"]`), sub-attributes and extension URNs.
 */
import { type Filter, parse } from "scim2-parse-filter";
import { badRequest } from "./errors.ts";
import type { Attributes } from "./normalize.ts";
import {
  type AttrDef,
  findAttr,
  type ResolvedPath,
  resolvePath,
  type ResourceTypeDef,
} from "./schema.ts";

/** A compiled filter. */
export type Predicate = (resource: Attributes) => boolean;

type CompareOp = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "lt" | "ge" | "le";
type CompValue = string | number | boolean | null;

/** Longest filter we parse; a client sending more is confused or hostile. */
const MAX_FILTER_LENGTH = 4096;

/**
 * Parses a filter, failing with 400 invalidFilter on bad syntax or unknown attributes.
 *
 * @example
 * const ast = parseFilter(USER_TYPE, 'userName eq "ada@example.com"');
 * const matches = compileFilter(USER_TYPE, ast);
 */
export function parseFilter(type: ResourceTypeDef, text: string): Filter {
  if (text.length > MAX_FILTER_LENGTH) {
    throw badRequest("invalidFilter", `filter is longer than ${MAX_FILTER_LENGTH} characters`);
  }
  let ast: Filter;
  try {
    ast = parse(text);
  } catch (e) {
    throw badRequest("invalidFilter", `filter "${text}" is not valid: ${(e as Error).message}`);
  }
  compileFilter(type, ast); // checks attributes and operators
  return ast;
}

/** Compiles a parsed filter to a predicate over stored resources. @throws {ScimError} */
export function compileFilter(type: ResourceTypeDef, ast: Filter): Predicate {
  return compile(type, ast, undefined);
}

/**
 * The value an index can answer for: `<attr> eq "<value>"` alone or inside an `and`. Lets the
 * store look up `userName eq "x"` (Okta, Entra) without scanning every resource.
 */
export function equalityOn(ast: Filter, attr: string): string | undefined {
  if (ast.op === "eq" && typeof ast.compValue === "string") {
    const path = ast.attrPath.replace(/^urn:.*:/i, "");
    return path.toLowerCase() === attr.toLowerCase() ? ast.compValue : undefined;
  }
  if (ast.op === "and") {
    for (const f of ast.filters) {
      const v = equalityOn(f, attr);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

function compile(type: ResourceTypeDef, f: Filter, parent: AttrDef | undefined): Predicate {
  switch (f.op) {
    case "and": {
      const parts = f.filters.map((x) => compile(type, x, parent));
      return (r) => parts.every((p) => p(r));
    }
    case "or": {
      const parts = f.filters.map((x) => compile(type, x, parent));
      return (r) => parts.some((p) => p(r));
    }
    case "not": {
      const inner = compile(type, f.filter, parent);
      return (r) => !inner(r);
    }
    case "[]": {
      if (parent) throw badRequest("invalidFilter", "value filters cannot be nested");
      const path = resolve(type, f.attrPath, undefined);
      if (!path.attr?.multiValued || path.attr.type !== "complex" || path.sub) {
        throw badRequest("invalidFilter", `"${f.attrPath}" is not a multi-valued attribute`);
      }
      const inner = compile(type, f.valFilter, path.attr);
      return (r) => valuesAt(r, path, false).some((item) => inner(item as Attributes));
    }
    case "pr": {
      const path = resolve(type, f.attrPath, parent);
      return (r) => valuesAt(r, path, true).some(isPresent);
    }
    default:
      return compileCompare(type, f.op, f.attrPath, f.compValue, parent);
  }
}

function compileCompare(
  type: ResourceTypeDef,
  op: CompareOp,
  attrPath: string,
  raw: CompValue,
  parent: AttrDef | undefined,
): Predicate {
  const path = resolve(type, attrPath, parent);
  const leaf = leafOf(path, attrPath);
  if (raw === null) {
    // `eq null` asks for "unassigned" (RFC 7644 §3.4.2.2); other operators make no sense.
    if (op !== "eq" && op !== "ne") {
      throw badRequest("invalidFilter", `"${op}" cannot compare with null`);
    }
    const absent = (r: Attributes) => !valuesAt(r, path, true).some(isPresent);
    return op === "eq" ? absent : (r) => !absent(r);
  }
  const test = comparator(leaf, op, raw, attrPath);
  // `ne` holds when no value equals, so a user without emails is "emails.value ne x".
  if (op === "ne") return (r) => !valuesAt(r, path, true).some(test);
  return (r) => valuesAt(r, path, true).some(test);
}

function comparator(
  def: AttrDef,
  op: CompareOp,
  raw: string | number | boolean,
  attrPath: string,
): (v: unknown) => boolean {
  const invalid = (why: string) => badRequest("invalidFilter", `${attrPath} ${op}: ${why}`);
  switch (def.type) {
    case "boolean": {
      if (op !== "eq" && op !== "ne") throw invalid("booleans compare with eq or ne only");
      const want = typeof raw === "string" && /^(true|false)$/i.test(raw)
        ? raw.toLowerCase() === "true"
        : raw;
      if (typeof want !== "boolean") throw invalid("the value must be true or false");
      return (v) => v === want;
    }
    case "integer":
    case "decimal": {
      if (typeof raw !== "number") throw invalid("the value must be a number");
      return numeric(op, raw, (v) => (typeof v === "number" ? v : NaN));
    }
    case "dateTime": {
      const want = typeof raw === "string" ? Date.parse(raw) : NaN;
      if (Number.isNaN(want)) throw invalid("the value must be a date-time");
      return numeric(op, want, (v) => (typeof v === "string" ? Date.parse(v) : NaN));
    }
    case "complex":
      throw invalid("a complex attribute cannot be compared; name a sub-attribute");
    default: {
      if (typeof raw !== "string") throw invalid("the value must be a string");
      const fold = (s: string) => (def.caseExact ? s : s.toLowerCase());
      const want = fold(raw);
      const cmp: Record<CompareOp, (s: string) => boolean> = {
        eq: (s) => s === want,
        ne: (s) => s === want, // negated by the caller
        co: (s) => s.includes(want),
        sw: (s) => s.startsWith(want),
        ew: (s) => s.endsWith(want),
        gt: (s) => s > want,
        ge: (s) => s >= want,
        lt: (s) => s < want,
        le: (s) => s <= want,
      };
      const f = cmp[op];
      return (v) => typeof v === "string" && f(fold(v));
    }
  }
}

function numeric(
  op: CompareOp,
  want: number,
  read: (v: unknown) => number,
): (v: unknown) => boolean {
  switch (op) {
    case "eq":
    case "ne":
      return (v) => read(v) === want;
    case "gt":
      return (v) => read(v) > want;
    case "ge":
      return (v) => read(v) >= want;
    case "lt":
      return (v) => read(v) < want;
    case "le":
      return (v) => read(v) <= want;
    default:
      throw badRequest("invalidFilter", `"${op}" does not apply to numbers and dates`);
  }
}

/** Resolves a filter attribute; inside `emails[...]`, names are sub-attributes of `emails`. */
function resolve(type: ResourceTypeDef, attrPath: string, parent: AttrDef | undefined) {
  if (parent) {
    const sub = findAttr(parent.subAttributes ?? [], attrPath);
    if (!sub) throw badRequest("invalidFilter", `unknown attribute "${parent.name}.${attrPath}"`);
    return { attr: sub, canonical: sub.name, inside: true } as ResolvedPath & { inside: true };
  }
  const r = resolvePath(type, attrPath);
  if (!r.ok) throw badRequest("invalidFilter", r.detail);
  if (r.path.filter !== undefined) {
    throw badRequest("invalidFilter", `"${attrPath}" cannot hold a value filter here`);
  }
  if (!r.path.attr) throw badRequest("invalidFilter", `"${attrPath}" names no attribute`);
  return r.path;
}

/** The definition compared: the sub-attribute, or `value` of a multi-valued complex one. */
function leafOf(path: ResolvedPath, attrPath: string): AttrDef {
  if (path.sub) return path.sub;
  const attr = path.attr!;
  if (attr.type === "complex") {
    const value = findAttr(attr.subAttributes ?? [], "value");
    if (attr.multiValued && value) return value; // `emails eq "x"` means emails.value
    throw badRequest("invalidFilter", `"${attrPath}" is complex; name a sub-attribute`);
  }
  return attr;
}

/** Every value at `path` in `r`, multi-valued attributes flattened. */
function valuesAt(r: Attributes, path: ResolvedPath, leaf: boolean): unknown[] {
  if ((path as { inside?: boolean }).inside) return [r[path.attr!.name]];
  const holder = path.schema ? r[path.schema] : r;
  if (typeof holder !== "object" || holder === null) return [];
  const top = (holder as Attributes)[path.attr!.name];
  const items = top === undefined ? [] : Array.isArray(top) ? top : [top];
  if (!leaf) return items;
  const sub = path.sub ??
    (path.attr!.type === "complex" && path.attr!.multiValued
      ? findAttr(path.attr!.subAttributes ?? [], "value")
      : undefined);
  if (!sub) return items;
  return items.map((i) => (typeof i === "object" && i !== null ? (i as Attributes)[sub.name] : i));
}

function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}
