/** Bearer auth for the admin routes; with no ADMIN_TOKEN configured every request is refused. */
import type { MiddlewareHandler } from "hono";
import { bearerToken } from "./bearer.ts";
import { timingSafeEqual } from "./hmac.ts";

/**
 * Checks `Authorization: Bearer <ADMIN_TOKEN>` in constant time, with the token read by the same
 * parser as every other surface (`bearer.ts`), so the admin API and the dashboard take the same
 * header. Answers as hono's `bearerAuth` did (RFC 6750, section 3): 401 without a header, 400
 * with `error="invalid_request"` for a header that holds no bearer token, 401 with
 * `error="invalid_token"` for a wrong one.
 *
 * @example
 * admin.use("*", adminAuth(config.adminToken));
 */
export function adminAuth(adminToken: string | undefined): MiddlewareHandler {
  if (!adminToken) {
    return async function adminDisabled(c) {
      return await Promise.resolve(c.json({
        error: "unauthorized",
        message: "the admin API is off: set ADMIN_TOKEN to turn it on",
      }, 401));
    };
  }
  return async function adminBearerAuth(c, next) {
    const header = c.req.header("authorization");
    if (!header) {
      c.header("WWW-Authenticate", 'Bearer realm=""');
      return c.json({ error: "unauthorized", message: "bearer token needed" }, 401);
    }
    const token = bearerToken(header);
    if (token === undefined) {
      c.header("WWW-Authenticate", 'Bearer error="invalid_request"');
      return c.json({ error: "unauthorized", message: "malformed Authorization header" }, 400);
    }
    if (!timingSafeEqual(token, adminToken)) {
      c.header("WWW-Authenticate", 'Bearer error="invalid_token"');
      return c.json({ error: "unauthorized", message: "invalid bearer token" }, 401);
    }
    await next();
  };
}
