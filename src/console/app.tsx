/**
 * The operator console under `/admin`: server-rendered pages (overview, accounts, one account,
 * drift, failures) behind a sign-in with the admin token, and the form posts that act through
 * src/ops as the admin API does. Mounted beside `/admin/api` and `/admin/queues`, so every
 * middleware here is attached per route: a `use("*")` would also catch those two.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Child } from "hono/jsx";
import { refuseCrossSite } from "../intake/auth/cross_site.ts";
import { timingSafeEqual } from "../intake/auth/hmac.ts";
import { OpsError } from "../ops/errors.ts";
import { discardJob, pauseProcessing, resumeProcessing, retryFailed } from "../ops/queues/jobs.ts";
import { requestReconcile } from "../ops/queues/scheduler.ts";
import { whois } from "../ops/whois.ts";
import {
  clearSessionCookie,
  type ConsoleEnv,
  requireCsrfToken,
  requireSession,
  safeNext,
  setSessionCookie,
  SIGN_IN_PATH,
} from "./auth.ts";
import { consoleActor, type ConsoleDeps, opsDeps } from "./deps.ts";
import { flashFrom, withFlash } from "./flash.ts";
import { Layout, type NavId } from "./layout.tsx";
import { AccountPage } from "./pages/account.tsx";
import { AccountsPage, loadAccounts } from "./pages/accounts.tsx";
import { DriftPage, driftTarget, loadDrift } from "./pages/drift.tsx";
import { FailuresPage, loadFailures } from "./pages/failures.tsx";
import { loadOverview, OverviewPage } from "./pages/overview.tsx";
import { SignInPage } from "./pages/sign_in.tsx";
import { SessionStore } from "./session.ts";

/** Where the console is mounted. */
export const CONSOLE_PATH = "/admin";

/**
 * The pages run no script and load nothing: the policy says so, so an injected tag could do
 * nothing either. Inline styles are the one exception (the single style sheet).
 */
export const CONSOLE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Console forms are a few fields; nothing bigger is read, signed in or not. */
const FORM_LIMIT_BYTES = 16 * 1024;

export interface OperatorConsoleOptions extends ConsoleDeps {
  /** Without it nobody can sign in, as the admin API refuses everything. */
  adminToken?: string | undefined;
  /** How long a sign-in lasts. @default 8 hours */
  sessionTtlMs?: number | undefined;
}

/**
 * @example
 * createApp({ ..., mounts: [{ path: CONSOLE_PATH, app: operatorConsole(options) }] });
 */
export function operatorConsole(options: OperatorConsoleOptions): Hono {
  const { adminToken, readOnly, logger } = options;
  const deps: ConsoleDeps = options;
  const app = new Hono<ConsoleEnv>();
  const sessions = adminToken
    ? new SessionStore(options.redis, adminToken, {
      prefix: options.prefix,
      ttlMs: options.sessionTtlMs,
    })
    : undefined;

  const signedIn: MiddlewareHandler<ConsoleEnv> = sessions
    ? requireSession(sessions)
    : (c) => Promise.resolve(c.redirect(SIGN_IN_PATH, 303));
  const smallForm = bodyLimit({
    maxSize: FORM_LIMIT_BYTES,
    onError: (c) => c.text(`form bodies are limited to ${FORM_LIMIT_BYTES} bytes`, 413),
  });
  // Attached per route like every middleware here: a `use("*")` would also cover /admin/api
  // and bull-board, and `use(path)` entries would be routes of their own for any method.
  const csp: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CONSOLE_CSP);
  };
  const notReadOnly: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    if (readOnly) return c.text("read-only console (ADMIN_DASHBOARD_READONLY=true)", 403);
    return await next();
  };
  /** Every state change: same site only, signed in, the form's CSRF token, not read-only. */
  const mutation = [
    refuseCrossSite(),
    smallForm,
    signedIn,
    requireCsrfToken(),
    notReadOnly,
  ] as const;
  const form = async (c: { req: { parseBody(): Promise<Record<string, unknown>> } }) => {
    const body = await c.req.parseBody();
    return (name: string) => (typeof body[name] === "string" ? body[name] as string : "");
  };

  app.onError((error, c) => {
    c.header("Content-Security-Policy", CONSOLE_CSP);
    const status = error instanceof OpsError ? error.status : 500;
    if (!(error instanceof OpsError)) logger.error("console error", { path: c.req.path, error });
    const session = c.get("session");
    return c.html(
      <Layout
        title="That did not work"
        readOnly={readOnly}
        csrfToken={session?.csrfToken}
        flash={{ text: error instanceof OpsError ? error.message : "internal error", error: true }}
      >
        <p>
          <a href="/admin">Back to the overview</a>
        </p>
      </Layout>,
      status,
    );
  });

  // --- sign-in and sign-out ---
  app.get("/sign-in", csp, (c) => {
    const flash = flashFrom((n) => c.req.query(n));
    return c.html(
      <Layout title="Sign in" flash={flash}>
        <SignInPage next={safeNext(c.req.query("next"))} enabled={!!sessions} />
      </Layout>,
      sessions ? 200 : 503,
    );
  });
  app.post("/sign-in", csp, refuseCrossSite(), smallForm, async (c) => {
    const field = await form(c);
    const next = safeNext(field("next"));
    if (!sessions || !adminToken || !timingSafeEqual(field("token"), adminToken)) {
      return c.html(
        <Layout title="Sign in">
          <SignInPage next={next} enabled={!!sessions} error="That is not the admin token." />
        </Layout>,
        401,
      );
    }
    const { id, session } = await sessions.open();
    setSessionCookie(c, id, session);
    logger.info("console sign-in", { session: session.handle.slice(0, 8) });
    return c.redirect(next, 303);
  });
  app.post("/sign-out", refuseCrossSite(), smallForm, signedIn, requireCsrfToken(), async (c) => {
    const session = c.get("session");
    await sessions!.close(session.handle);
    clearSessionCookie(c);
    logger.info("console sign-out", { session: session.handle.slice(0, 8) });
    return c.redirect(withFlash(SIGN_IN_PATH, "signed-out"), 303);
  });

  // --- pages ---
  const page = (c: Context<ConsoleEnv>, title: string, nav: NavId, body: Child) => {
    const flash = flashFrom((n) => c.req.query(n));
    return c.html(
      <Layout
        title={title}
        nav={nav}
        csrfToken={c.get("session").csrfToken}
        readOnly={readOnly}
        flash={flash}
      >
        {body}
      </Layout>,
    );
  };

  app.get("/", csp, signedIn, async (c) => {
    const data = await loadOverview(deps);
    return page(
      c,
      "Overview",
      "overview",
      <OverviewPage data={data} csrf={c.get("session").csrfToken} readOnly={readOnly} />,
    );
  });
  app.get("/accounts", csp, signedIn, async (c) => {
    const data = await loadAccounts(deps, c.req.query("q") ?? "");
    return page(c, "Accounts", "accounts", <AccountsPage data={data} />);
  });
  app.get("/accounts/:entity", csp, signedIn, async (c) => {
    const report = await whois(deps, c.req.param("entity"));
    return page(
      c,
      report.entity,
      "accounts",
      <AccountPage report={report} csrf={c.get("session").csrfToken} readOnly={readOnly} />,
    );
  });
  app.get("/drift", csp, signedIn, async (c) => {
    const data = await loadDrift(deps, driftTarget(deps, c.req.query("target")));
    return page(
      c,
      "Drift",
      "drift",
      <DriftPage data={data} csrf={c.get("session").csrfToken} readOnly={readOnly} />,
    );
  });
  app.get("/failures", csp, signedIn, async (c) => {
    const jobs = await loadFailures(deps);
    return page(
      c,
      "Failures",
      "failures",
      <FailuresPage jobs={jobs} csrf={c.get("session").csrfToken} readOnly={readOnly} />,
    );
  });

  // --- actions (post/redirect/get) ---
  app.post("/jobs/retry-all", ...mutation, async (c) => {
    const { retried } = await retryFailed(opsDeps(deps, c.get("session")), { all: true });
    return c.redirect(withFlash("/admin/failures", "retried-all", String(retried.length)), 303);
  });
  app.post("/jobs/:id/retry", ...mutation, async (c) => {
    const field = await form(c);
    const { retried } = await retryFailed(opsDeps(deps, c.get("session")), {
      jobId: c.req.param("id"),
    });
    const next = safeNext(field("next") || "/admin/failures");
    return c.redirect(withFlash(next, "retried", retried[0]?.jobId ?? ""), 303);
  });
  app.post("/jobs/:id/discard", ...mutation, async (c) => {
    const field = await form(c);
    const reason = field("reason").slice(0, 500);
    const { jobId } = await discardJob(opsDeps(deps, c.get("session")), c.req.param("id"), reason);
    return c.redirect(withFlash("/admin/failures", "discarded", jobId), 303);
  });
  app.post("/queue/pause", ...mutation, async (c) => {
    await pauseProcessing(opsDeps(deps, c.get("session")), "from the console");
    return c.redirect(withFlash("/admin", "paused"), 303);
  });
  app.post("/queue/resume", ...mutation, async (c) => {
    await resumeProcessing(opsDeps(deps, c.get("session")));
    return c.redirect(withFlash("/admin", "resumed"), 303);
  });
  // Each target has its own runs; the form names a target other than IONOS (drift.tsx).
  const startDrift =
    (mode: "report" | "fix", flash: "drift-check" | "drift-apply") =>
    async (c: Context<ConsoleEnv>) => {
      const target = driftTarget(deps, (await form(c))("target"));
      const jobId = await requestReconcile(deps.reconcileQueue, {
        mode,
        requestedBy: consoleActor(c.get("session")),
        ...(target === "ionos" ? {} : { target }),
      });
      const page = target === "ionos" ? "/admin/drift" : `/admin/drift?target=${target}`;
      return c.redirect(withFlash(page, flash, jobId), 303);
    };
  app.post("/drift/check", ...mutation, startDrift("report", "drift-check"));
  app.post("/drift/apply", ...mutation, startDrift("fix", "drift-apply"));
  // Typed for `createApp({ mounts })`, whose routers know no session variable.
  return new Hono().route("/", app as unknown as Hono);
}
