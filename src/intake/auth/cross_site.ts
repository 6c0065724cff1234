/**
 * Refuses cross-site requests that would change something (CSRF), for the admin API and the
 * dashboard. The dashboard takes HTTP Basic, which a browser attaches on its own to any request
 * to our origin, so a page elsewhere could POST `text/plain` (no preflight) with the operator's
 * credentials. Only a request that sets `Authorization: Bearer` itself is exempt: a browser never
 * adds a bearer token on its own, and a cross-site page cannot set one without a CORS preflight,
 * which we never grant.
 */
import type { MiddlewareHandler } from "hono";
import { bearerToken } from "./bearer.ts";

/** Methods that do not change state (RFC 9110, 9.2.1): never refused. */
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * @example
 * app.use("/admin/*", refuseCrossSite());
 */
export function refuseCrossSite(): MiddlewareHandler {
  return async function refuseCrossSite(c, next) {
    if (SAFE.has(c.req.method) || bearerToken(c.req.header("authorization")) !== undefined) {
      return await next();
    }
    const reason = crossSiteReason(c.req.raw.headers, new URL(c.req.url));
    if (!reason) return await next();
    return c.json({ error: "forbidden", message: `cross-site request refused: ${reason}` }, 403);
  };
}

/** Why a request comes from another site, or undefined when nothing says so. */
function crossSiteReason(headers: Headers, url: URL): string | undefined {
  // Fetch Metadata (w3c.github.io/webappsec-fetch-metadata): sent by every current browser.
  const site = headers.get("sec-fetch-site");
  if (site !== null) {
    return site === "same-origin" || site === "none" ? undefined : `Sec-Fetch-Site: ${site}`;
  }
  // Older browsers: compare Origin (RFC 6454) with the host the request was sent to.
  const origin = headers.get("origin");
  if (origin === null) return undefined; // not a browser, or a same-origin GET-like navigation
  if (origin === "null") return "Origin: null";
  const host = headers.get("x-forwarded-host")?.split(",")[0]?.trim() ?? headers.get("host") ??
    url.host;
  try {
    return new URL(origin).host === host ? undefined : `Origin ${origin} is not ${host}`;
  } catch {
    return `malformed Origin`;
  }
}
