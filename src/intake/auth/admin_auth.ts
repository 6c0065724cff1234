/** Bearer auth for the admin routes; with no ADMIN_TOKEN configured every request is refused. */
import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";

export function adminAuth(adminToken: string | undefined): MiddlewareHandler {
  if (!adminToken) {
    return async function adminDisabled(c) {
      return await Promise.resolve(c.json({
        error: "unauthorized",
        message: "the admin API is off: set ADMIN_TOKEN to turn it on",
      }, 401));
    };
  }
  return bearerAuth({
    token: adminToken,
    noAuthenticationHeader: { message: { error: "unauthorized", message: "bearer token needed" } },
    invalidToken: { message: { error: "unauthorized", message: "invalid bearer token" } },
    invalidAuthenticationHeader: {
      message: { error: "unauthorized", message: "malformed Authorization header" },
    },
  });
}
