/**
 * Discovery endpoints (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes, /Schemas, built
 * from the same definitions the service enforces, so what we advertise is what we do.
 */
import { type Context, Hono } from "hono";
import { ScimError, scimJson } from "./errors.ts";
import { MAX_RESULTS } from "./list.ts";
import {
  type AttrDef,
  COMMON_ATTRIBUTES,
  GROUP_TYPE,
  type SchemaDef,
  USER_TYPE,
} from "./schema.ts";
import {
  LIST_RESPONSE,
  RESOURCE_TYPE_SCHEMA,
  SCHEMA_SCHEMA,
  SERVICE_PROVIDER_CONFIG_SCHEMA,
} from "./urns.ts";

const TYPES = [USER_TYPE, GROUP_TYPE];

/** RFC 7643 §7 form, with every flag spelled out (some clients don't apply defaults). */
function attributeJson(a: AttrDef): Record<string, unknown> {
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued ?? false,
    description: a.description,
    required: a.required ?? false,
    ...(a.type === "string" || a.type === "reference" ? { caseExact: a.caseExact ?? false } : {}),
    canonicalValues: a.canonicalValues,
    referenceTypes: a.referenceTypes,
    mutability: a.mutability ?? "readWrite",
    returned: a.returned ?? "default",
    uniqueness: a.uniqueness ?? "none",
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(attributeJson) } : {}),
  };
}

function schemaJson(s: SchemaDef, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: s.id,
    name: s.name,
    description: s.description,
    attributes: s.attributes.map(attributeJson),
    meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${s.id}` },
  };
}

function resourceTypeJson(t: typeof USER_TYPE, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: t.name,
    name: t.name,
    endpoint: t.endpoint,
    description: t.description,
    schema: t.schema.id,
    schemaExtensions: t.extensions.map((e) => ({ schema: e.schema.id, required: e.required })),
    meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/${t.name}` },
  };
}

/** What we support; `etag` because every resource carries `meta.version` and honours If-Match. */
function serviceProviderConfig(baseUrl: string): Record<string, unknown> {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    documentationUri: "https://www.rfc-editor.org/rfc/rfc7644",
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [{
      type: "oauthbearertoken",
      name: "OAuth Bearer Token",
      description: "Send the SCIM_TOKEN as `Authorization: Bearer <token>`.",
      specUri: "https://www.rfc-editor.org/rfc/rfc6750",
      primary: true,
    }],
    meta: { resourceType: "ServiceProviderConfig", location: `${baseUrl}/ServiceProviderConfig` },
  };
}

const list = (resources: unknown[]) => ({
  schemas: [LIST_RESPONSE],
  totalResults: resources.length,
  startIndex: 1,
  itemsPerPage: resources.length,
  Resources: resources,
});

const withCommon = (s: SchemaDef): SchemaDef => ({
  ...s,
  attributes: [...COMMON_ATTRIBUTES, ...s.attributes],
});

/** All schemas we publish: core User (with `id`, `externalId`, `meta`), Group, extensions. */
const ALL_SCHEMAS: SchemaDef[] = [
  withCommon(USER_TYPE.schema),
  withCommon(GROUP_TYPE.schema),
  ...USER_TYPE.extensions.map((e) => e.schema),
];

/**
 * The discovery routes.
 *
 * @param baseUrl the SCIM base URL of a request (for `meta.location`)
 */
export function discoveryRoutes(baseUrl: (c: Context) => string): Hono {
  const app = new Hono();
  app.get("/ServiceProviderConfig", (c) => scimJson(c, serviceProviderConfig(baseUrl(c))));
  app.get("/ResourceTypes", (c) => {
    const base = baseUrl(c);
    return scimJson(c, list(TYPES.map((t) => resourceTypeJson(t, base))));
  });
  app.get("/ResourceTypes/:name", (c) => {
    const t = TYPES.find((x) => x.name === c.req.param("name"));
    if (!t) throw new ScimError(404, `ResourceType "${c.req.param("name")}" not found`);
    return scimJson(c, resourceTypeJson(t, baseUrl(c)));
  });
  app.get("/Schemas", (c) => {
    const base = baseUrl(c);
    return scimJson(c, list(ALL_SCHEMAS.map((s) => schemaJson(s, base))));
  });
  app.get("/Schemas/:id", (c) => {
    const s = ALL_SCHEMAS.find((x) => x.id === c.req.param("id"));
    if (!s) throw new ScimError(404, `Schema "${c.req.param("id")}" not found`);
    return scimJson(c, schemaJson(s, baseUrl(c)));
  });
  return app;
}
