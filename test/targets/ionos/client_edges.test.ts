/**
 * Client edge cases the simulator does not produce (FAILED requests, foreign Location hosts,
 * echoed secrets, dead ports), against tiny Hono apps called in-process via the `fetch` option.
 */
import { describe, expect, it } from "vitest";
import { Hono } from "hono";
import { IonosClient, type IonosClientOptions } from "../../../src/targets/ionos/client.ts";
import {
  IonosApiError,
  IonosNetworkError,
  IonosRequestFailedError,
  IonosRequestTimeoutError,
} from "../../../src/targets/ionos/errors.ts";
import type { RateLimiter } from "../../../src/targets/rate_limiter.ts";
import { backoffDelay, parseRetryAfter } from "../../../src/targets/http/retry.ts";

const BASE = "http://ionos.test/cloudapi/v6";
const TOKEN = "tok-VERY-SECRET-0123456789";

function client(app: Hono, extra: Partial<IonosClientOptions> = {}) {
  const seen: string[] = [];
  const c = new IonosClient({
    baseUrl: BASE,
    auth: { token: TOKEN },
    baseDelayMs: 1,
    requestPollIntervalMs: 5,
    fetch: (input, init) => {
      const req = new Request(input, init);
      seen.push(`${req.method} ${req.url}`);
      return Promise.resolve(app.fetch(req));
    },
    ...extra,
  });
  return { c, seen };
}

const status = (id: string, s: string, message = `request is ${s}`) => ({
  id,
  type: "request-status",
  href: `${BASE}/requests/${id}/status`,
  metadata: { status: s, message },
});

/** Records pause() calls; never waits. */
class SpyLimiter implements RateLimiter {
  pauses: number[] = [];
  acquire(): Promise<void> {
    return Promise.resolve();
  }
  pause(ms: number): Promise<void> {
    this.pauses.push(ms);
    return Promise.resolve();
  }
}

/** Fails if a secret shows up anywhere a log line or a stored job error could carry it. */
function expectNoSecret(err: unknown, ...secrets: string[]) {
  const texts = [String(err), JSON.stringify(err), (err as Error).stack ?? ""];
  for (const s of secrets) for (const t of texts) expect(t).not.toContain(s);
}

describe("IonosClient.waitForRequest()", () => {
  it("throws IonosRequestFailedError with the status message on FAILED", async () => {
    let polls = 0;
    const app = new Hono().get("/cloudapi/v6/requests/:id/status", (c) => {
      polls++;
      const s = polls === 1 ? "QUEUED" : polls === 2 ? "RUNNING" : "FAILED";
      return c.json(status(c.req.param("id"), s, s === "FAILED" ? "quota exceeded" : undefined));
    });
    const { c } = client(app);
    const err = await c.waitForRequest(`${BASE}/requests/r-1/status`).catch((e) => e);
    expect(err).toBeInstanceOf(IonosRequestFailedError);
    expect(err.retryable).toBe(true); // not applied: the job tries again, within its attempts
    expect(err.requestId).toBe("r-1");
    expect(err.statusMessage).toBe("quota exceeded");
    expect(polls).toBe(3);
  });

  it("throws a retryable IonosRequestTimeoutError when DONE does not come in time", async () => {
    const app = new Hono().get(
      "/cloudapi/v6/requests/:id/status",
      (c) => c.json(status(c.req.param("id"), "RUNNING")),
    );
    const { c } = client(app, { requestTimeoutMs: 60 });
    const err = await c.waitForRequest("r-2").catch((e) => e);
    expect(err).toBeInstanceOf(IonosRequestTimeoutError);
    expect(err.retryable).toBe(true);
    expect(err.lastStatus).toBe("RUNNING");
  });

  it("polls baseUrl, not the host a Location header names", async () => {
    const app = new Hono()
      .post("/cloudapi/v6/um/groups/:id/users", (c) =>
        c.json({ id: "u-1", type: "user" }, 202, {
          Location: "https://evil.example/cloudapi/v6/requests/r-3/status",
        }))
      .get("/cloudapi/v6/requests/:id/status", (c) => c.json(status(c.req.param("id"), "DONE")));
    const { c, seen } = client(app);
    await c.addGroupMember("g-1", "u-1");
    expect(seen).toEqual([
      `POST ${BASE}/um/groups/g-1/users`,
      `GET ${BASE}/requests/r-3/status`,
    ]);
  });
});

describe("IonosClient errors", () => {
  it("never carries the token, the Basic password or a new user's password", async () => {
    const password = "new-user-PASSWORD-42";
    // A hostile server echoing everything back into its error message.
    const app = new Hono().all("*", async (c) => {
      const body = await c.req.text();
      const message = `auth=${c.req.header("authorization")} body=${body}`;
      return c.json({ httpStatus: 422, messages: [{ errorCode: "200", message }] }, 422);
    });
    const user = {
      firstname: "A",
      lastname: "B",
      email: "a@example.com",
      password,
      administrator: false,
      forceSecAuth: false,
      active: true,
    };
    const err = await client(app).c.createUser(user).catch((e) => e);
    expect(err).toBeInstanceOf(IonosApiError);
    expect(err.route).toBe("/um/users");
    expectNoSecret(err, TOKEN, password);

    const basic = new IonosClient({
      baseUrl: BASE,
      auth: { username: "ops@example.com", password: "basic-PASSWORD-7" },
      fetch: (input, init) => Promise.resolve(app.fetch(new Request(input, init))),
    });
    const err2 = await basic.getUser("u-1").catch((e) => e);
    expectNoSecret(err2, "basic-PASSWORD-7");
    // The Basic header is base64: make sure that form is gone too.
    expectNoSecret(err2, btoa("ops@example.com:basic-PASSWORD-7"));
  });

  it("maps a dead port to a retryable IonosNetworkError after retrying a GET", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close(); // nothing listens there now: connection refused
    const retries: number[] = [];
    const c = new IonosClient({
      baseUrl: `http://127.0.0.1:${port}/cloudapi/v6`,
      auth: { token: TOKEN },
      maxAttempts: 3,
      baseDelayMs: 1,
      onRetry: (i) => retries.push(i.attempt),
    });
    const err = await c.getUser("u-1").catch((e) => e);
    expect(err).toBeInstanceOf(IonosNetworkError);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain("GET /um/users/{id}");
    expect(retries).toEqual([1, 2]);
    expectNoSecret(err, TOKEN);
  });

  it("turns a slow answer into a network timeout", async () => {
    const app = new Hono().get("*", async (c) => {
      await new Promise((r) => setTimeout(r, 300));
      return c.json({});
    });
    // Hono in-process ignores the abort signal, so race it the way fetch would.
    const c = new IonosClient({
      baseUrl: BASE,
      auth: { token: TOKEN },
      timeoutMs: 50,
      maxAttempts: 1,
      fetch: (input, init) =>
        new Promise((resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
          Promise.resolve(app.fetch(new Request(input, init))).then(resolve);
        }),
    });
    const err = await c.getGroup("g-1").catch((e) => e);
    expect(err).toBeInstanceOf(IonosNetworkError);
    expect(err.message).toContain("timeout after 50 ms");
  });
});

describe("IonosClient and the shared limiter", () => {
  it("a 429 pauses the shared limiter for Retry-After, then the call succeeds", async () => {
    let calls = 0;
    const app = new Hono().get("/cloudapi/v6/um/users/:id", (c) => {
      if (++calls === 1) {
        return c.json({ httpStatus: 429, messages: [] }, 429, { "Retry-After": "0.05" });
      }
      return c.json({ id: c.req.param("id"), type: "user", properties: {} });
    });
    const limiter = new SpyLimiter();
    const user = await client(app, { rateLimiter: limiter }).c.getUser("u-9");
    expect(user?.id).toBe("u-9");
    expect(limiter.pauses).toEqual([50]);
  });

  it("slows everyone down when X-RateLimit-Remaining is nearly used up", async () => {
    const app = new Hono().get(
      "/cloudapi/v6/um/groups/:id",
      (c) =>
        c.json({ id: "g", type: "group", properties: { name: "x" } }, 200, {
          "X-RateLimit-Limit": "120",
          "X-RateLimit-Remaining": "1",
        }),
    );
    const limiter = new SpyLimiter();
    await client(app, { rateLimiter: limiter }).c.getGroup("g");
    expect(limiter.pauses).toEqual([500]);
  });
});

describe("IonosClient groups", () => {
  it("reads createDatacenter as createDataCenter and fills missing flags with false", async () => {
    const app = new Hono().get("/cloudapi/v6/um/groups/:id", (c) =>
      c.json({
        id: "g",
        type: "group",
        properties: { name: "ops", createDatacenter: true, reserveIp: true },
      }));
    const g = await client(app).c.getGroup("g");
    expect(g?.properties.createDataCenter).toBe(true);
    expect(g?.properties.reserveIp).toBe(true);
    expect(g?.properties.createSnapshot).toBe(false);
    expect("createDatacenter" in (g?.properties ?? {})).toBe(false);
  });
});

describe("IonosClient users", () => {
  it("sends only writable properties: no s3CanonicalUserId, no secAuthActive on create", async () => {
    const bodies: Record<string, Record<string, unknown>> = {};
    const app = new Hono()
      .on(["POST", "PUT"], "/cloudapi/v6/um/users/*", async (c) => {
        bodies[c.req.method] = (await c.req.json()).properties;
        return c.json({ id: "u-1", type: "user", properties: {} }, 202);
      });
    const { c } = client(app);
    const props = {
      firstname: "A",
      lastname: "B",
      email: "a@example.com",
      administrator: false,
      forceSecAuth: false,
      secAuthActive: true,
      active: true,
      s3CanonicalUserId: "s3-id",
    };
    await c.createUser({ ...props, password: "pw-12345" });
    await c.updateUser("u-1", props);
    expect(Object.keys(bodies.POST ?? {}).sort()).toEqual(
      ["active", "administrator", "email", "firstname", "forceSecAuth", "lastname", "password"],
    );
    expect(bodies.PUT).toEqual({ ...props, s3CanonicalUserId: undefined });
    expect("s3CanonicalUserId" in (bodies.PUT ?? {})).toBe(false);
  });
});

describe("retry helpers", () => {
  it("parseRetryAfter() reads seconds and HTTP-dates", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("2", now)).toBe(2000);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:03 GMT", now)).toBe(3000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("backoffDelay() grows exponentially under the cap, with full jitter", () => {
    expect(backoffDelay(1, 200, 10_000, () => 0.999)).toBe(199);
    expect(backoffDelay(4, 200, 10_000, () => 0.999)).toBe(1598);
    expect(backoffDelay(20, 200, 10_000, () => 0.999)).toBe(9990);
    expect(backoffDelay(3, 200, 10_000, () => 0)).toBe(0);
  });
});
