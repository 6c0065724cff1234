/**
 * Secondary lookup indexes of the SCIM store: `externalId` (Users and Groups) and
 * `emails.value` (Users). Okta and Entra look a resource up by these before every write
 * (idp-facts.md); without an index each lookup reads every stored resource.
 *
 * One sorted set per resource type, every member scored 0 and spelled
 * `<attr>\0<value>\0<id>`, so one ZRANGEBYLEX finds every id holding a value (values need not
 * be unique). Values compare as the schema says: `externalId` is caseExact (RFC 7643 §3.1),
 * `emails.value` is not (RFC 7643 §4.1.2), so it is stored lower-cased, as the filter folds it.
 */
import type { Filter } from "scim2-parse-filter";
import type { Attributes } from "./normalize.ts";
import type { ResourceTypeName } from "./schema.ts";

/** An indexed attribute. */
export type IndexedAttr = "externalId" | "emails.value";

/** An equality a lookup index can answer. */
export interface IndexedEquality {
  attr: IndexedAttr;
  /** Already folded as stored. */
  value: string;
}

const FOLD: Record<IndexedAttr, (s: string) => string> = {
  externalId: (s) => s,
  "emails.value": (s) => s.toLowerCase(),
};

const INDEXED: Record<ResourceTypeName, readonly IndexedAttr[]> = {
  User: ["externalId", "emails.value"],
  Group: ["externalId"],
};

/** NUL separates the parts; a value holding one is not indexed (and not looked up). */
const SEP = "\0";
const usable = (v: unknown): v is string => typeof v === "string" && !v.includes(SEP);

/** The index members of one stored document. */
export function indexMembers(type: ResourceTypeName, doc: Attributes & { id: string }): string[] {
  const out = new Set<string>();
  for (const attr of INDEXED[type]) {
    for (const raw of valuesOf(doc, attr)) {
      if (usable(raw)) out.add(`${attr}${SEP}${FOLD[attr](raw)}${SEP}${doc.id}`);
    }
  }
  return [...out];
}

/** The lexical range (for ZRANGEBYLEX) of every member holding `eq`. */
export function indexRange(eq: IndexedEquality): [string, string] {
  const prefix = `${eq.attr}${SEP}${eq.value}`;
  // Every `<prefix>\0<id>` lies in [<prefix>\0, <prefix>\x01): the next value up starts later.
  return [`[${prefix}${SEP}`, `(${prefix}\x01`];
}

/** The id inside an index member. */
export const idOfMember = (member: string): string => member.slice(member.lastIndexOf(SEP) + 1);

/**
 * The indexed equality a filter implies, if any: `externalId eq "x"`, `emails.value eq "x"`,
 * `emails eq "x"` or `emails[value eq "x"]`, alone or inside an `and` (the rest of the filter
 * is still applied to what the index finds).
 */
export function indexedEquality(type: ResourceTypeName, ast: Filter): IndexedEquality | undefined {
  const pick = (attr: IndexedAttr, v: unknown) =>
    INDEXED[type].includes(attr) && usable(v) ? { attr, value: FOLD[attr](v) } : undefined;
  switch (ast.op) {
    case "eq": {
      const path = ast.attrPath.replace(/^urn:.*:/i, "").toLowerCase();
      if (path === "externalid") return pick("externalId", ast.compValue);
      if (path === "emails.value" || path === "emails") return pick("emails.value", ast.compValue);
      return undefined;
    }
    case "[]": {
      const path = ast.attrPath.replace(/^urn:.*:/i, "").toLowerCase();
      if (path !== "emails") return undefined;
      const inner = valueEquality(ast.valFilter);
      return inner === undefined ? undefined : pick("emails.value", inner);
    }
    case "and":
      for (const f of ast.filters) {
        const found = indexedEquality(type, f);
        if (found) return found;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** `value eq "x"` inside a value filter, alone or in an `and`. */
function valueEquality(f: Filter): unknown {
  if (f.op === "eq" && f.attrPath.toLowerCase() === "value") return f.compValue;
  if (f.op === "and") {
    for (const x of f.filters) {
      const v = valueEquality(x);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

function valuesOf(doc: Attributes, attr: IndexedAttr): unknown[] {
  if (attr === "externalId") return [doc.externalId];
  const emails = doc.emails;
  if (!Array.isArray(emails)) return [];
  return emails.map((e) => (typeof e === "object" && e !== null ? (e as Attributes).value : e));
}
