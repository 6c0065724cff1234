/** Helpers for the console tests: sign in over plain HTTP, and read a page's CSRF token. */
import { ADMIN_TOKEN } from "../_support/harness.ts";

/** Signs in with `token`; returns the response (not followed) and the cookie pair if set. */
export async function signIn(
  baseUrl: string,
  token: string = ADMIN_TOKEN,
  headers: Record<string, string> = {},
): Promise<{ res: Response; cookie?: string; setCookie: string }> {
  const res = await fetch(`${baseUrl}/admin/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ token, next: "/admin/failures" }),
  });
  await res.body?.cancel();
  const setCookie = res.headers.get("set-cookie") ?? "";
  const pair = /^(ionos_sync_console=[^;]+)/.exec(setCookie)?.[1];
  return { res, setCookie, ...(pair ? { cookie: pair } : {}) };
}

/** GETs a console page with a cookie, without following redirects. */
export async function page(
  baseUrl: string,
  path: string,
  cookie?: string,
): Promise<{ status: number; html: string; location: string | null }> {
  const res = await fetch(`${baseUrl}${path}`, {
    redirect: "manual",
    headers: cookie ? { cookie } : {},
  });
  return { status: res.status, html: await res.text(), location: res.headers.get("location") };
}

/** The CSRF token in a page's forms. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error("no CSRF token on the page");
  return m[1]!;
}

/** POSTs a console form with a cookie, without following redirects. */
export async function post(
  baseUrl: string,
  path: string,
  cookie: string | undefined,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; location: string | null; text: string }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(cookie ? { cookie } : {}),
      ...headers,
    },
    body: new URLSearchParams(fields),
  });
  return { status: res.status, location: res.headers.get("location"), text: await res.text() };
}
