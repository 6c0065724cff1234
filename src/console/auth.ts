/**
 * Sign-in state for the console pages: the session cookie and the checks every page and every
 * form post pass. Mutations are CSRF-safe three times over: the cookie is `SameSite=Strict`,
 * cross-site requests are refused from Fetch Metadata/Origin (../intake/auth/cross_site.ts), and
 * each form carries the session's own CSRF token.
 */
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { timingSafeEqual } from "../intake/auth/hmac.ts";
import type { ConsoleSession, SessionStore } from "./session.ts";

/** Hono environment of the console routes. */
export interface ConsoleEnv {
  Variables: { session: ConsoleSession };
}

export const SESSION_COOKIE = "ionos_sync_console";
/** Path the cookie is sent on: the console, never the public intake routes. */
export const COOKIE_PATH = "/admin";
export const SIGN_IN_PATH = "/admin/sign-in";

/** True when the browser reached us over TLS, directly or through a proxy that says so. */
export function isBehindTls(c: Context): boolean {
  const forwarded = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return forwarded === "https" || new URL(c.req.url).protocol === "https:";
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure behind TLS, with an expiry. */
export function setSessionCookie(c: Context, id: string, session: ConsoleSession): void {
  setCookie(c, SESSION_COOKIE, id, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: "Strict",
    secure: isBehindTls(c),
    expires: new Date(session.expiresAt),
    maxAge: Math.max(1, Math.floor((session.expiresAt - Date.now()) / 1000)),
  });
}

/** Clears the session cookie (sign-out, or a cookie whose session is gone). */
export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: "Strict",
    secure: isBehindTls(c),
  });
}

/**
 * Lets a request through only with a live session. A page load without one is sent to the
 * sign-in form (303); anything else gets 401.
 */
export function requireSession(sessions: SessionStore): MiddlewareHandler<ConsoleEnv> {
  return async function requireSession(c, next) {
    const id = getCookie(c, SESSION_COOKIE);
    const session = await sessions.read(id);
    if (session) {
      c.set("session", session);
      // Pages show who may act on what: never keep them in a shared cache.
      c.header("Cache-Control", "no-store");
      return await next();
    }
    if (id) clearSessionCookie(c);
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      const next = new URL(c.req.url);
      return c.redirect(
        `${SIGN_IN_PATH}?next=${encodeURIComponent(next.pathname + next.search)}`,
        303,
      );
    }
    return c.text("sign in first: no console session", 401);
  };
}

/**
 * Refuses a form post whose `csrf` field is not this session's token. Runs after
 * {@linkcode requireSession}; reads the form body, which handlers read again from Hono's cache.
 */
export function requireCsrfToken(): MiddlewareHandler<ConsoleEnv> {
  return async function requireCsrfToken(c, next) {
    const form = await c.req.parseBody();
    const sent = typeof form.csrf === "string" ? form.csrf : "";
    if (!timingSafeEqual(sent, c.get("session").csrfToken)) {
      return c.text("the form's CSRF token is missing or stale: reload the page", 403);
    }
    return await next();
  };
}

/** A `next` target that stays inside the console (no open redirect). */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith("/admin") || next.startsWith("//") || next.includes("\\")) {
    return "/admin";
  }
  return next;
}
