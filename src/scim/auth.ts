/** Bearer-token authentication of the SCIM API: `Authorization: Bearer <SCIM_TOKEN>`. */
import type { MiddlewareHandler } from "hono";
import { bearerToken } from "../intake/auth/bearer.ts";
import { timingSafeEqual } from "../intake/auth/hmac.ts";
import { ScimError } from "./errors.ts";

/**
 * Checks the bearer token in constant time; answers 401 (SCIM error body) otherwise.
 *
 * @param token the SCIM_TOKEN
 * @throws {Error} at construction when the token is empty: SCIM must never run open
 * @example
 * app.use("*", scimAuth(config.scimToken));
 */
export function scimAuth(token: string): MiddlewareHandler {
  if (!token) throw new Error("scimAuth needs a token");
  return async function scimBearerAuth(c, next) {
    const presented = bearerToken(c.req.header("authorization"));
    if (presented === undefined || !timingSafeEqual(presented, token)) {
      throw new ScimError(401, "missing or wrong bearer token");
    }
    await next();
  };
}
