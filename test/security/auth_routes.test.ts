/**
 * Every route that changes or reveals state refuses a request without valid credentials.
 *
 * The table is the app's own route list (`app.routes`), built by `startService` with every
 * integration switched on, so a route added later without auth fails here until it is guarded
 * or deliberately added to PUBLIC. Each route is tried with no credentials, wrong ones, and the
 * valid credentials of every *other* surface (an events token must not open the admin API).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hono } from "hono";
import { Redis } from "ioredis";
import { loadConfig } from "../../src/config/config.ts";
import { DEFAULT_MAPPING } from "../../src/config/mapping.ts";
import { createLogger } from "../../src/log.ts";
import { type Service, startService } from "../../src/service.ts";
import { ADMIN_TOKEN, EVENTS_TOKEN, SCIM_TOKEN, WEBHOOK_SECRET } from "../_support/harness.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";
import { type RedisSnapshot, snapshotDiff, snapshotRedis } from "../_support/redis_snapshot.ts";

const SECRETS = {
  events: EVENTS_TOKEN,
  admin: ADMIN_TOKEN,
  scim: SCIM_TOKEN,
  metrics: "test-metrics-token-0123456789",
  workos: "test-workos-secret-0123456789",
  keycloak: "test-keycloak-secret-0123456789",
};
type Surface = keyof typeof SECRETS;

/**
 * Routes anyone may call: liveness and readiness reveal nothing and change nothing; the
 * console's sign-in form is the way in (its POST is guarded: a wrong token gets 401).
 */
const PUBLIC = new Set(["GET /healthz", "GET /readyz", "GET /admin/sign-in"]);
/** Middleware on every path (`ALL /*`) that guards nothing and serves nothing by itself. */
const GLOBAL_MIDDLEWARE = new Set(["requestId", "secureHeaders", "logRefusals"]);
/** Which credential each surface accepts. A new surface must be added here on purpose. */
const OWNERS: [RegExp, Surface][] = [
  [/^\/events$/, "events"],
  [/^\/scim\/v2(\/|$)/, "scim"],
  [/^\/hooks\/workos$/, "workos"],
  [/^\/hooks\/keycloak$/, "keycloak"],
  [/^\/metrics$/, "metrics"],
  [/^\/admin(\/|$)/, "admin"],
];

const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;

interface Attempt {
  name: string;
  headers: Record<string, string>;
  /**
   * A malformed Authorization header (for a bearer-only route) may be answered 400, as
   * RFC 6750 section 3.1 allows (`invalid_request`); everything else must be 401 or 403.
   */
  malformed?: boolean;
}

/** Credentials that must all be refused on a route owned by `owner`. */
function wrongCredentials(owner: Surface | undefined): Attempt[] {
  const out: Attempt[] = [
    { name: "no credentials", headers: {} },
    { name: "a wrong bearer token", headers: { authorization: "Bearer wrong-0123456789abcdef" } },
    { name: "an empty bearer token", headers: { authorization: "Bearer " }, malformed: true },
    {
      name: "a wrong Basic password",
      headers: { authorization: basic("admin", "wrong-password-0123") },
      malformed: true,
    },
    {
      name: "a forged webhook signature",
      headers: {
        "webhook-id": "msg_forged",
        "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      },
    },
  ];
  for (const [surface, secret] of Object.entries(SECRETS)) {
    if (surface === owner) continue;
    out.push({
      name: `the ${surface} token as bearer`,
      headers: { authorization: `Bearer ${secret}` },
    });
    out.push({
      name: `the ${surface} token as Basic password`,
      headers: { authorization: basic("x", secret) },
      malformed: true,
    });
  }
  return out;
}

const REFUSED = new Set([401, 403]);
const REFUSED_MALFORMED = new Set([400, 401, 403]);

/** A console page (src/console) refuses a page load by sending the browser to its sign-in form. */
function sentToSignIn(method: string, res: Response): boolean {
  return method === "GET" && res.status === 303 &&
    (res.headers.get("location") ?? "").startsWith("/admin/sign-in?");
}

/** A concrete path for a route pattern: parameters and wildcards filled with harmless values. */
function concretePath(pattern: string): string {
  return pattern
    .replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => `probe-${name}`)
    .replace(/\*/g, "probe");
}

let redis: TestRedis;
let service: Service;
let app: Hono;
let before: RedisSnapshot;
const probe = () => new Redis(redis.url);

beforeAll(async () => {
  redis = await startRedis();
  const env = {
    REDIS_URL: redis.url,
    EVENTS_TOKEN,
    WEBHOOK_SECRET,
    ADMIN_TOKEN,
    SCIM_TOKEN,
    METRICS_TOKEN: SECRETS.metrics,
    WORKOS_WEBHOOK_SECRET: SECRETS.workos,
    KEYCLOAK_WEBHOOK_SECRET: SECRETS.keycloak,
    PORT: "0",
    HOST: "127.0.0.1",
  };
  service = await startService(
    loadConfig(env, "api"),
    DEFAULT_MAPPING,
    createLogger({
      level: "silent",
    }),
  );
  app = service.app!;
  const r = probe();
  before = await snapshotRedis(r);
  r.disconnect();
});
afterAll(async () => {
  await service?.stop();
  await redis?.stop();
});

/** Unique (method, path) pairs from `app.routes`, without the global middleware. */
function routeTable(): { method: string; path: string }[] {
  const seen = new Set<string>();
  const out: { method: string; path: string }[] = [];
  for (const r of app.routes) {
    if (r.path === "/*" && GLOBAL_MIDDLEWARE.has(r.handler.name)) continue;
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ method: r.method, path: r.path });
  }
  return out;
}

describe("authentication on every route", () => {
  it("sees every surface in the route table", () => {
    const keys = routeTable().map((r) => `${r.method} ${r.path}`);
    for (
      const k of [
        "POST /events",
        "POST /scim/v2/Users",
        "POST /hooks/workos",
        "POST /hooks/keycloak",
        "GET /metrics",
        "GET /admin/api/stats",
      ]
    ) expect(keys).toContain(k);
  });

  it("refuses each guarded route without valid credentials", async () => {
    const problems: string[] = [];
    let tried = 0;
    for (const { method, path } of routeTable()) {
      if (PUBLIC.has(`${method} ${path}`)) continue;
      const owner = OWNERS.find(([re]) => re.test(path))?.[1];
      if (!owner) problems.push(`${method} ${path}: no owner surface; add it to OWNERS`);
      const url = concretePath(path);
      for (const m of method === "ALL" ? ["GET", "POST", "DELETE"] : [method]) {
        for (const { name, headers, malformed } of wrongCredentials(owner)) {
          const hasBody = !["GET", "HEAD", "DELETE"].includes(m);
          const res = await app.request(url, {
            method: m,
            headers: { ...headers, ...(hasBody ? { "content-type": "application/json" } : {}) },
            ...(hasBody ? { body: "{}" } : {}),
          });
          tried++;
          await res.body?.cancel();
          if (
            !(malformed ? REFUSED_MALFORMED : REFUSED).has(res.status) && !sentToSignIn(m, res)
          ) {
            problems.push(`${m} ${url} (${path}) with ${name}: ${res.status}`);
          }
        }
      }
    }
    console.log(`auth: ${tried} unauthenticated requests over ${routeTable().length} routes`);
    expect(problems).toEqual([]);
  });

  it("lets the owners in, so the refusals above are about the credentials", async () => {
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    const status = async (path: string, init: RequestInit) => {
      const res = await app.request(path, init);
      await res.body?.cancel();
      return res.status;
    };
    expect(await status("/admin/api/stats", { headers: bearer(ADMIN_TOKEN) })).toBe(200);
    expect(await status("/metrics", { headers: bearer(SECRETS.metrics) })).toBe(200);
    expect(await status("/scim/v2/Users", { headers: bearer(SCIM_TOKEN) })).toBe(200);
    // Past authentication, an empty body is a validation error, not a 401.
    expect(
      await status("/events", {
        method: "POST",
        headers: { ...bearer(EVENTS_TOKEN), "content-type": "application/json" },
        body: "{}",
      }),
    ).toBe(400);
  });

  it("changed nothing in Redis while refusing", async () => {
    const r = probe();
    const after = await snapshotRedis(r);
    r.disconnect();
    expect(snapshotDiff(before, after)).toEqual([]);
  });
});
