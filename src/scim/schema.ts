/**
 * The attributes we keep for Users and Groups, in RFC 7643 §7 form. One definition serves the
 * input normalizer, the filter and PATCH path resolvers, `attributes=` projection and /Schemas.
 *
 * Attribute names are case-insensitive in SCIM (RFC 7643 §2.1); `resolvePath` maps whatever
 * case a client sends to the canonical name.
 */
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, IONOS_USER_SCHEMA, USER_SCHEMA } from "./urns.ts";

export type AttrType =
  | "string"
  | "boolean"
  | "complex"
  | "reference"
  | "dateTime"
  | "integer"
  | "decimal";

/** One attribute definition (RFC 7643 §7). Omitted flags take the RFC defaults. */
export interface AttrDef {
  name: string;
  type: AttrType;
  description: string;
  /** @default false */
  multiValued?: boolean;
  /** @default false */
  required?: boolean;
  /** @default false */
  caseExact?: boolean;
  /** @default "readWrite" */
  mutability?: "readOnly" | "readWrite" | "immutable" | "writeOnly";
  /** @default "default" */
  returned?: "always" | "never" | "default" | "request";
  /** @default "none" */
  uniqueness?: "none" | "server" | "global";
  referenceTypes?: string[];
  canonicalValues?: string[];
  subAttributes?: AttrDef[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttrDef[];
}

export type ResourceTypeName = "User" | "Group";

export interface ResourceTypeDef {
  name: ResourceTypeName;
  endpoint: "/Users" | "/Groups";
  description: string;
  schema: SchemaDef;
  extensions: { schema: SchemaDef; required: boolean }[];
  /** The attribute that must be unique (case-insensitively) among resources of this type. */
  uniqueAttr: "userName" | "displayName";
}

const str = (name: string, description: string, extra: Partial<AttrDef> = {}): AttrDef => ({
  name,
  type: "string",
  description,
  ...extra,
});
const bool = (name: string, description: string): AttrDef => ({
  name,
  type: "boolean",
  description,
});

/** `type`, `primary`, `display` and `value` of the multi-valued attributes (RFC 7643 §2.4). */
const multiValuedSubs = (valueDescription: string, types: string[]): AttrDef[] => [
  str("value", valueDescription),
  str("display", "A human-readable name, primarily used for display purposes."),
  str("type", "A label indicating the attribute's function.", { canonicalValues: types }),
  bool("primary", "Whether this is the primary value; at most one value is primary."),
];

/** `id`, `externalId` and `meta` (RFC 7643 §3.1): part of every resource, in no schema. */
export const COMMON_ATTRIBUTES: AttrDef[] = [
  str("id", "Unique identifier of the resource, issued by this service provider.", {
    caseExact: true,
    mutability: "readOnly",
    returned: "always",
    uniqueness: "server",
  }),
  str("externalId", "Identifier of the resource in the provisioning client.", {
    caseExact: true,
  }),
  {
    name: "meta",
    type: "complex",
    description: "Resource metadata.",
    mutability: "readOnly",
    subAttributes: [
      str("resourceType", "User or Group.", { caseExact: true, mutability: "readOnly" }),
      { name: "created", type: "dateTime", description: "When created.", mutability: "readOnly" },
      {
        name: "lastModified",
        type: "dateTime",
        description: "When last changed.",
        mutability: "readOnly",
      },
      {
        name: "location",
        type: "reference",
        referenceTypes: ["uri"],
        description: "URI of the resource.",
        caseExact: true,
        mutability: "readOnly",
      },
      str("version", "Weak entity tag of the resource.", {
        caseExact: true,
        mutability: "readOnly",
      }),
    ],
  },
];

const USER_SCHEMA_DEF: SchemaDef = {
  id: USER_SCHEMA,
  name: "User",
  description: "User Account",
  attributes: [
    str("userName", "Unique identifier for the user; an email address suits IONOS best.", {
      required: true,
      uniqueness: "server",
    }),
    {
      name: "name",
      type: "complex",
      description: "The components of the user's name.",
      subAttributes: [
        str("formatted", "The full name."),
        str("familyName", "Family name; becomes the IONOS lastname."),
        str("givenName", "Given name; becomes the IONOS firstname."),
        str("middleName", "Middle name(s)."),
        str("honorificPrefix", "Honorific prefix, e.g. 'Ms.'."),
        str("honorificSuffix", "Honorific suffix, e.g. 'III'."),
      ],
    },
    str("displayName", "The name of the user, suitable for display."),
    str("nickName", "The casual way to address the user."),
    {
      name: "profileUrl",
      type: "reference",
      referenceTypes: ["external"],
      description: "URL of the user's online profile.",
    },
    str("title", "The user's title, e.g. 'Vice President'."),
    str("userType", "The relationship between the organization and the user."),
    str("preferredLanguage", "Preferred written or spoken language."),
    str("locale", "Default location, for localizing currency, dates and numbers."),
    str("timezone", "Time zone in IANA format, e.g. 'Europe/Berlin'."),
    bool("active", "Whether the user may sign in; false deactivates the IONOS user."),
    {
      name: "password",
      type: "string",
      description: "Accepted and discarded: IONOS passwords are never synced.",
      mutability: "writeOnly",
      returned: "never",
    },
    {
      name: "emails",
      type: "complex",
      multiValued: true,
      description: "Email addresses; the primary one becomes the IONOS email.",
      subAttributes: multiValuedSubs("Email address.", ["work", "home", "other"]),
    },
    {
      name: "phoneNumbers",
      type: "complex",
      multiValued: true,
      description: "Phone numbers.",
      subAttributes: multiValuedSubs("Phone number.", ["work", "home", "mobile", "fax", "other"]),
    },
    {
      name: "addresses",
      type: "complex",
      multiValued: true,
      description: "Physical mailing addresses.",
      subAttributes: [
        str("formatted", "The full mailing address."),
        str("streetAddress", "Street address."),
        str("locality", "City or locality."),
        str("region", "State or region."),
        str("postalCode", "Zip or postal code."),
        str("country", "Country, ISO 3166-1 alpha-2."),
        str("type", "A label indicating the address' function.", {
          canonicalValues: ["work", "home", "other"],
        }),
        bool("primary", "Whether this is the primary address."),
      ],
    },
  ],
};

const ENTERPRISE_USER_SCHEMA_DEF: SchemaDef = {
  id: ENTERPRISE_USER_SCHEMA,
  name: "EnterpriseUser",
  description: "Enterprise User",
  attributes: [
    str("employeeNumber", "Employee number."),
    str("costCenter", "Cost center."),
    str("organization", "Organization."),
    str("division", "Division."),
    str("department", "Department."),
    {
      name: "manager",
      type: "complex",
      description: "The user's manager.",
      subAttributes: [
        str("value", "The id of the manager's User resource.", { caseExact: true }),
        {
          name: "$ref",
          type: "reference",
          referenceTypes: ["User"],
          description: "URI of the manager's User resource.",
        },
        str("displayName", "The manager's display name."),
      ],
    },
  ],
};

const readOnly = (def: AttrDef): AttrDef => ({ ...def, mutability: "readOnly" });

const IONOS_USER_SCHEMA_DEF: SchemaDef = {
  id: IONOS_USER_SCHEMA,
  name: "IonosSyncUser",
  description: "The user's IONOS Cloud twin, as the sync worker last saw it (read-only).",
  attributes: [
    readOnly(str("ionosUserId", "Id of the IONOS Cloud user, once it exists.", {
      caseExact: true,
    })),
    readOnly(str("syncState", "pending, creating, synced, failed, deleted or skipped.", {
      canonicalValues: [
        "pending",
        "creating",
        "synced",
        "failed",
        "conflict",
        "deleted",
        "skipped",
      ],
    })),
    readOnly(str("lastResult", "What the last sync did.")),
    readOnly(str("lastError", "Why the last sync failed, if it did.")),
    readOnly({ name: "lastSyncAt", type: "dateTime", description: "When the last sync ran." }),
  ],
};

const GROUP_SCHEMA_DEF: SchemaDef = {
  id: GROUP_SCHEMA,
  name: "Group",
  description: "Group",
  attributes: [
    str("displayName", "Name of the group; becomes the IONOS group name. Unique.", {
      required: true,
      uniqueness: "server",
    }),
    {
      name: "members",
      type: "complex",
      multiValued: true,
      description: "Members of the group: Users only (IONOS has no nested groups).",
      subAttributes: [
        str("value", "The id of the member's User resource.", {
          caseExact: true,
          mutability: "immutable",
        }),
        {
          name: "$ref",
          type: "reference",
          referenceTypes: ["User"],
          description: "URI of the member's resource.",
          mutability: "immutable",
        },
        str("display", "A human-readable name of the member."),
        str("type", "The type of the member.", {
          canonicalValues: ["User"],
          mutability: "immutable",
        }),
      ],
    },
  ],
};

export const USER_TYPE: ResourceTypeDef = {
  name: "User",
  endpoint: "/Users",
  description: "User Account",
  schema: USER_SCHEMA_DEF,
  extensions: [
    { schema: ENTERPRISE_USER_SCHEMA_DEF, required: false },
    { schema: IONOS_USER_SCHEMA_DEF, required: false },
  ],
  uniqueAttr: "userName",
};

export const GROUP_TYPE: ResourceTypeDef = {
  name: "Group",
  endpoint: "/Groups",
  description: "Group",
  schema: GROUP_SCHEMA_DEF,
  extensions: [],
  uniqueAttr: "displayName",
};

/** Core attributes clients may send that we accept and drop: we keep nothing IONOS can't use. */
export const IGNORED_USER_ATTRIBUTES = new Set(
  ["password", "groups", "roles", "entitlements", "ims", "photos", "x509certificates"],
);

/** A path resolved against a resource type's schemas. */
export interface ResolvedPath {
  /** The extension's URN; `undefined` for core and common attributes. */
  schema?: string | undefined;
  /** The top-level attribute; `undefined` when the path names a whole extension. */
  attr?: AttrDef | undefined;
  sub?: AttrDef | undefined;
  /** Value filter of a multi-valued attribute (`emails[type eq "work"]`), as written. */
  filter?: string | undefined;
  /** Canonical spelling, without a core URN prefix: `name.givenName`, `urn:...:User:manager`. */
  canonical: string;
}

/** Why a path did not resolve: malformed, or naming something we don't know. */
export type PathProblem = "malformed" | "unknownAttribute" | "unknownSchema";

export type ResolveResult =
  | { ok: true; path: ResolvedPath }
  | { ok: false; problem: PathProblem; detail: string };

const ATTR_RE = /^([A-Za-z$][\w$-]*)(?:\[(.*)\])?(?:\.([A-Za-z$][\w$-]*))?$/s;

/** Finds an attribute by name, ignoring case. */
export function findAttr(defs: readonly AttrDef[], name: string): AttrDef | undefined {
  const lower = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === lower);
}

/** The schemas whose attributes sit at the top level of a resource (core plus common). */
export function coreAttributes(type: ResourceTypeDef): AttrDef[] {
  return [...COMMON_ATTRIBUTES, ...type.schema.attributes];
}

/**
 * Resolves an attribute path (RFC 7644 §3.10): `userName`, `name.givenName`,
 * `emails[type eq "work"].value`, `urn:...:enterprise:2.0:User:manager.value`, or a core URN
 * prefix followed by a core attribute. Case-insensitive, answering the canonical spelling.
 *
 * @example
 * resolvePath(USER_TYPE, "NAME.givenname") // { ok: true, path: { canonical: "name.givenName", ... } }
 */
export function resolvePath(type: ResourceTypeDef, raw: string): ResolveResult {
  let rest = raw.trim();
  let schema: SchemaDef | undefined;
  if (/^urn:/i.test(rest)) {
    const all = [type.schema, ...type.extensions.map((e) => e.schema)];
    const lower = rest.toLowerCase();
    schema = all.find((s) => lower === s.id.toLowerCase()) ??
      all.find((s) => lower.startsWith(`${s.id.toLowerCase()}:`));
    if (!schema) {
      return { ok: false, problem: "unknownSchema", detail: `unknown schema in "${raw}"` };
    }
    if (lower === schema.id.toLowerCase()) {
      if (schema === type.schema) {
        return { ok: false, problem: "malformed", detail: `"${raw}" names no attribute` };
      }
      return { ok: true, path: { schema: schema.id, canonical: schema.id } };
    }
    rest = rest.slice(schema.id.length + 1);
  }
  const m = ATTR_RE.exec(rest);
  if (!m) return { ok: false, problem: "malformed", detail: `malformed attribute path "${raw}"` };
  const [, name, filter, subName] = m as unknown as [string, string, string | undefined, string?];
  const extension = schema && schema !== type.schema ? schema : undefined;
  const defs = extension ? extension.attributes : coreAttributes(type);
  const attr = findAttr(defs, name);
  if (!attr) {
    return { ok: false, problem: "unknownAttribute", detail: `unknown attribute "${raw}"` };
  }
  if (filter !== undefined && (!attr.multiValued || attr.type !== "complex")) {
    return {
      ok: false,
      problem: "malformed",
      detail: `"${attr.name}" is not multi-valued, so "${raw}" cannot filter it`,
    };
  }
  let sub: AttrDef | undefined;
  if (subName !== undefined) {
    sub = findAttr(attr.subAttributes ?? [], subName);
    if (!sub) {
      return { ok: false, problem: "unknownAttribute", detail: `unknown attribute "${raw}"` };
    }
  }
  const local = `${attr.name}${filter !== undefined ? `[${filter}]` : ""}${
    sub ? `.${sub.name}` : ""
  }`;
  return {
    ok: true,
    path: {
      schema: extension?.id,
      attr,
      sub,
      filter,
      canonical: extension ? `${extension.id}:${local}` : local,
    },
  };
}

/** Whether an attribute can't be written by clients (`id`, `meta`, our IONOS extension). */
export function isReadOnly(path: ResolvedPath): boolean {
  if (path.schema === IONOS_USER_SCHEMA) return true;
  return path.attr?.mutability === "readOnly" || path.sub?.mutability === "readOnly";
}
