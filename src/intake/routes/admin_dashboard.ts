/**
 * The bull-board dashboard at `/admin/queues`, behind the admin token. Browsers cannot send a
 * bearer token on a page load, so the dashboard also takes HTTP Basic with the admin token as
 * password (any user name) and asks for it with `WWW-Authenticate: Basic`; the browser then
 * sends it on the dashboard's own API calls too.
 */
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import type { Queue } from "bullmq";
import { Hono, type MiddlewareHandler } from "hono";
import { serveStatic } from "hono/deno";
import { refuseCrossSite } from "../auth/cross_site.ts";
import { bearerToken } from "../auth/bearer.ts";
import { timingSafeEqual } from "../auth/hmac.ts";

export const DASHBOARD_PATH = "/admin/queues";

export interface AdminDashboardOptions {
  queues: Queue[];
  /** Without it the dashboard refuses every request, like the admin API. */
  adminToken?: string | undefined;
  /** Hide every button that changes jobs or queues (retry included). @default false */
  readOnly?: boolean | undefined;
}

/**
 * @example
 * createApp({ ..., mounts: [{ path: "/admin/queues", app: adminDashboard({ queues, adminToken }) }] });
 */
export function adminDashboard(options: AdminDashboardOptions): Hono {
  const { queues, adminToken, readOnly = false } = options;
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: readOnly, allowRetries: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: "IONOS sync" } },
  });
  const app = new Hono();
  // The browser sends Basic credentials by itself, also from another site's page (CSRF).
  app.use("*", refuseCrossSite());
  app.use("*", dashboardAuth(adminToken));
  app.route("/", serverAdapter.registerPlugin());
  return app;
}

/** Bearer or Basic (password = admin token); 401 with a Basic challenge otherwise. */
export function dashboardAuth(adminToken: string | undefined): MiddlewareHandler {
  return async function dashboardAuth(c, next) {
    const token = presentedToken(c.req.header("authorization"));
    if (adminToken && token !== undefined && timingSafeEqual(token, adminToken)) {
      return await next();
    }
    c.header("WWW-Authenticate", 'Basic realm="admin", charset="UTF-8"');
    return c.json({
      error: "unauthorized",
      message: adminToken
        ? "admin token needed (Bearer, or Basic with the token as password)"
        : "the dashboard is off: set ADMIN_TOKEN to turn it on",
    }, 401);
  };
}

/** The admin token as presented: a bearer token, or the password of HTTP Basic. */
function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = bearerToken(header);
  if (bearer !== undefined) return bearer;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!basic) return undefined;
  try {
    const decoded = atob(basic[1]!);
    return decoded.slice(decoded.indexOf(":") + 1);
  } catch {
    return undefined;
  }
}
