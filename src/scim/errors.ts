/**
 * SCIM error answers (RFC 7644 §3.12): `ScimError` is thrown anywhere below a route and turned
 * into a `urn:ietf:params:scim:api:messages:2.0:Error` body by the SCIM app's error handler.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_SCHEMA, SCIM_CONTENT_TYPE } from "./urns.ts";

/** The `scimType` values of RFC 7644 Table 9 that we use. */
export type ScimType =
  | "invalidFilter"
  | "tooMany"
  | "uniqueness"
  | "mutability"
  | "invalidSyntax"
  | "invalidPath"
  | "noTarget"
  | "invalidValue"
  | "invalidVers"
  | "sensitive";

/**
 * A SCIM error answer. `detail` should name the offending field, as clients show it to admins.
 *
 * @example
 * throw new ScimError(409, "userName \"ada@example.com\" is already taken", "uniqueness");
 */
export class ScimError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: string,
    readonly scimType?: ScimType,
    options?: ErrorOptions,
  ) {
    super(detail, options);
    this.name = "ScimError";
  }
}

/** 400 with a `scimType`: the shorthand for every validation failure. */
export const badRequest = (scimType: ScimType, detail: string) =>
  new ScimError(400, detail, scimType);

/** 503: Redis did not take the change; the client should try again later. */
export function unavailableError(cause: unknown): ScimError {
  return new ScimError(
    503,
    "the store is unreachable; the change was not accepted, try again later",
    undefined,
    { cause },
  );
}

/** The error body of RFC 7644 §3.12; `status` is a string there. */
function scimErrorBody(error: ScimError): Record<string, unknown> {
  return {
    schemas: [ERROR_SCHEMA],
    status: String(error.status),
    scimType: error.scimType,
    detail: error.detail,
  };
}

/** Answers `body` as `application/scim+json`. */
export function scimJson(c: Context, body: unknown, status: ContentfulStatusCode = 200): Response {
  return c.body(JSON.stringify(body), status, { "Content-Type": SCIM_CONTENT_TYPE });
}

/** Answers a `ScimError`; a 503 also says when to come back. */
export function scimErrorResponse(c: Context, error: ScimError): Response {
  if (error.status === 503) c.header("Retry-After", "5");
  if (error.status === 401) c.header("WWW-Authenticate", 'Bearer realm="scim"');
  return scimJson(c, scimErrorBody(error), error.status);
}
