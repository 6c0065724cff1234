/**
 * A faithful in-memory Contabo: the token endpoint (Keycloak password grant) and the users API
 * (`contabo-users-api.txt`), with the behaviour a client must cope with: bearer auth and token
 * expiry, a required `x-request-id` UUID, page/size paging with `_pagination`, 409 on a taken
 * email, no password on create, an owner who cannot be changed, a rate limit answering 429 with
 * `Retry-After`, and injectable failures: the next N calls, or the IONOS simulator's knobs (5xx,
 * 429, latency, lost answers; `src/targets/simulator/fault_gate.ts`) and "down". Tests change
 * `users` directly to act like a person in the Customer Control Panel.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { FaultKind, Faults } from "../../simulator/faults.ts";
import { FaultGate } from "../../simulator/fault_gate.ts";

/** The simulator's fixed credentials unless options say otherwise. */
export const CONTABO_SIM_CREDENTIALS = {
  clientId: "sim-client",
  clientSecret: "sim-client-SECRET-0815",
  apiUser: "api@example.com",
  apiPassword: "sim-api-PASSWORD-4711",
} as const;

/** Where the token endpoint is served on the simulator. */
export const CONTABO_SIM_TOKEN_PATH = "/auth/realms/contabo/protocol/openid-connect/token";

/** Options for {@linkcode createContaboSimulator}. */
export interface ContaboSimulatorOptions {
  credentials?: {
    clientId: string;
    clientSecret: string;
    apiUser: string;
    apiPassword: string;
  };
  /** Token lifetime. @default 300 */
  tokenLifetimeSeconds?: number;
  /** API calls per second per token; 0 is unlimited. @default 0 */
  rateLimitPerSecond?: number;
  /** Role ids that exist. @default [101, 102, 103] */
  roleIds?: number[];
  /** Page size when a request gives none (Contabo's documented example is 10). @default 10 */
  defaultPageSize?: number;
  /** @default Date.now */
  now?: () => number;
  /** Seed of the fault dice. @default 1 */
  seed?: number;
  /** Faults in force from the start (as the IONOS simulator's). @default none */
  faults?: Faults;
}

/** A Contabo user as the simulator stores it. */
export interface SimContaboUser {
  userId: string;
  firstName: string;
  lastName: string;
  email: string;
  emailVerified: boolean;
  enabled: boolean;
  totp: boolean;
  locale: string;
  admin: boolean;
  accessAllResources: boolean;
  roles: number[];
  owner: boolean;
}

/** One API call as logged: no bodies of the token call, no header values but the request id. */
export interface ContaboSimCall {
  method: string;
  path: string;
  status: number;
  requestId: string | undefined;
  body?: unknown;
  /** Set when the answer came from fault injection (`lostAnswer`: applied, answered 5xx). */
  fault?: FaultKind;
}

/** A running simulator's handles. */
export interface ContaboSimulator {
  readonly app: Hono;
  /** Users by id; change directly to act like a person in the control panel. */
  readonly users: Map<string, SimContaboUser>;
  readonly calls: readonly ContaboSimCall[];
  /** Tokens issued so far. */
  tokensIssued(): number;
  /** Makes every issued token invalid now (as a lapse or a revocation would). */
  expireTokens(): void;
  /** The next `count` API calls (not token calls) answer `status`. */
  failNext(count: number, status: number, retryAfterSeconds?: number): void;
  /** Adds a user as if made in the control panel; returns it. */
  addUser(user: Partial<SimContaboUser> & { email: string }): SimContaboUser;
  /** Replaces the faults in force (`{}`: none). @throws {TypeError | RangeError} */
  setFaults(faults: Faults): void;
  /** Down: every API call answers 503 until `setDown(false)`. */
  setDown(down: boolean): void;
  /** Faults injected so far, by kind. */
  faultCounts(): Readonly<Record<FaultKind | "down", number>>;
}

const LOCALES = ["de-DE", "de", "en-US", "en"] as const;
const Name = z.string().max(255);
const CreateBody = z.strictObject({
  firstName: Name,
  lastName: Name,
  email: z.email().max(255),
  enabled: z.boolean(),
  totp: z.boolean(),
  locale: z.enum(LOCALES),
  admin: z.boolean().optional(),
  accessAllResources: z.boolean().optional(),
  roles: z.array(z.number().int()).optional(),
});
const UpdateBody = CreateBody.partial();
/** Reason phrases for injected 5xx, as Contabo's gateway words them in `message`. */
const STATUS_TEXT: Record<number, string> = {
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Creates the simulator app. */
export function createContaboSimulator(options: ContaboSimulatorOptions = {}): ContaboSimulator {
  const {
    credentials = CONTABO_SIM_CREDENTIALS,
    tokenLifetimeSeconds = 300,
    rateLimitPerSecond = 0,
    roleIds = [101, 102, 103],
    defaultPageSize = 10,
    now = Date.now,
    seed = 1,
    faults = {},
  } = options;
  const gate = new FaultGate(seed, faults);
  const users = new Map<string, SimContaboUser>();
  const tokens = new Map<string, number>(); // token -> expiresAt
  const calls: ContaboSimCall[] = [];
  const windows = new Map<string, { second: number; count: number }>();
  let issued = 0;
  let failures: { count: number; status: number; retryAfter: number | undefined } = {
    count: 0,
    status: 500,
    retryAfter: undefined,
  };
  const app = new Hono();

  const error = (c: Context, status: number, message: string | string[], headers = {}) => {
    for (const [k, v] of Object.entries(headers)) c.header(k, String(v));
    return c.json({ statusCode: status, message }, status as 400);
  };
  const render = (u: SimContaboUser) => ({
    tenantId: "DE",
    customerId: "12345",
    ...u,
    roles: u.roles.map((roleId) => ({
      roleId,
      name: `role-${roleId}`,
      admin: false,
      accessAllResources: false,
      type: "apiPermission",
    })),
  });
  const one = (c: Context, u: SimContaboUser, status = 200) =>
    c.json({ data: [render(u)], _links: { self: `/v1/users/${u.userId}` } }, status as 200);
  const emailTaken = (email: string, except?: string) =>
    [...users.values()].some((u) =>
      u.userId !== except && u.email.toLowerCase() === email.toLowerCase()
    );
  const unknownRoles = (roles: number[] | undefined) =>
    (roles ?? []).filter((r) => !roleIds.includes(r));

  app.post(CONTABO_SIM_TOKEN_PATH, async (c) => {
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    if (form.grant_type !== "password") {
      return c.json({
        error: "unsupported_grant_type",
        error_description: "Unsupported grant type",
      }, 400);
    }
    if (
      form.client_id !== credentials.clientId || form.client_secret !== credentials.clientSecret
    ) {
      return c.json({
        error: "unauthorized_client",
        error_description: "Invalid client or Invalid client credentials",
      }, 401);
    }
    if (form.username !== credentials.apiUser || form.password !== credentials.apiPassword) {
      return c.json({ error: "invalid_grant", error_description: "Invalid user credentials" }, 401);
    }
    issued++;
    const token = `sim.${crypto.randomUUID()}`;
    tokens.set(token, now() + tokenLifetimeSeconds * 1000);
    return c.json({
      access_token: token,
      expires_in: tokenLifetimeSeconds,
      refresh_expires_in: 0,
      token_type: "Bearer",
      scope: "",
    });
  });

  // The gateway every API call passes: log, auth, request id, rate limit, injected faults.
  app.use("/v1/*", async (c, next) => {
    const requestId = c.req.header("x-request-id");
    const record: ContaboSimCall = { method: c.req.method, path: c.req.path, status: 0, requestId };
    if (["POST", "PATCH"].includes(c.req.method)) {
      record.body = await c.req.raw.clone().json().catch(() => undefined);
    }
    calls.push(record);
    const token = c.req.header("authorization")?.match(/^Bearer (.+)$/)?.[1];
    const expiresAt = token ? tokens.get(token) : undefined;
    if (!token || expiresAt === undefined || expiresAt <= now()) {
      record.status = 401;
      return error(c, 401, "Unauthorized");
    }
    if (!requestId || !UUID.test(requestId)) {
      record.status = 400;
      return error(c, 400, ["x-request-id must be a UUID"]);
    }
    if (rateLimitPerSecond > 0) {
      const second = Math.floor(now() / 1000);
      const w = windows.get(token);
      const win = w && w.second === second ? w : { second, count: 0 };
      win.count++;
      windows.set(token, win);
      if (win.count > rateLimitPerSecond) {
        record.status = 429;
        return error(c, 429, "Too Many Requests", { "retry-after": 1 });
      }
    }
    if (failures.count > 0) {
      failures.count--;
      record.status = failures.status;
      return error(
        c,
        failures.status,
        "injected failure",
        failures.retryAfter !== undefined ? { "retry-after": failures.retryAfter } : {},
      );
    }
    const decision = gate.decide(c.req.method, c.req.path);
    if (decision.delayMs) await new Promise((r) => setTimeout(r, decision.delayMs));
    if (decision.fault) record.fault = decision.fault;
    if (decision.fault === "rate429") {
      record.status = 429;
      return error(c, 429, "Too Many Requests", { "retry-after": 1 });
    }
    if (decision.fault === "error5xx") {
      record.status = decision.status;
      return error(c, decision.status, STATUS_TEXT[decision.status] ?? "Internal Server Error");
    }
    await next();
    if (decision.fault === "lostAnswer") {
      // Applied, but the answer the client reads is a gateway error.
      c.res = error(c, decision.status, STATUS_TEXT[decision.status] ?? "Internal Server Error");
    }
    record.status = c.res.status;
  });

  app.get("/v1/users", (c) => {
    const page = Number(c.req.query("page") ?? 1);
    const size = Number(c.req.query("size") ?? defaultPageSize);
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 1000) {
      return error(c, 400, ["page must be a positive integer", "size must be between 1 and 1000"]);
    }
    const email = c.req.query("email")?.toLowerCase();
    const enabled = c.req.query("enabled");
    const owner = c.req.query("owner");
    const all = [...users.values()]
      .filter((u) => !email || u.email.toLowerCase().includes(email))
      .filter((u) => enabled === undefined || String(u.enabled) === enabled)
      .filter((u) => owner === undefined || String(u.owner) === owner)
      .sort((a, b) => a.userId.localeCompare(b.userId));
    const totalPages = Math.max(1, Math.ceil(all.length / size));
    const data = all.slice((page - 1) * size, page * size).map(render);
    return c.json({
      _pagination: { size, totalElements: all.length, totalPages, page },
      data,
      _links: {
        first: `/v1/users?page=1&size=${size}`,
        ...(page > 1 ? { previous: `/v1/users?page=${page - 1}&size=${size}` } : {}),
        self: `/v1/users?page=${page}&size=${size}`,
        ...(page < totalPages ? { next: `/v1/users?page=${page + 1}&size=${size}` } : {}),
        last: `/v1/users?page=${totalPages}&size=${size}`,
      },
    });
  });

  app.post("/v1/users", async (c) => {
    const raw = await c.req.json().catch(() => undefined);
    if (raw && typeof raw === "object" && "password" in raw) {
      return error(c, 400, ["property password should not exist"]);
    }
    const parsed = CreateBody.safeParse(raw);
    if (!parsed.success) {
      return error(c, 400, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
    }
    const b = parsed.data;
    if (emailTaken(b.email)) return error(c, 409, `User with email ${b.email} already exists`);
    const bad = unknownRoles(b.roles);
    if (bad.length) return error(c, 404, `Entry Role not found by roleId ${bad.join(", ")}`);
    const user: SimContaboUser = {
      userId: crypto.randomUUID(),
      firstName: b.firstName,
      lastName: b.lastName,
      email: b.email,
      emailVerified: false,
      enabled: b.enabled,
      totp: b.totp,
      locale: b.locale,
      admin: b.admin ?? false,
      accessAllResources: b.accessAllResources ?? false,
      roles: [...new Set(b.roles ?? [])].sort((x, y) => x - y),
      owner: false,
    };
    users.set(user.userId, user);
    return one(c, user, 201);
  });

  const notFound = (c: Context, id: string) =>
    error(c, 404, `Entry User not found by userId ${id}`);

  app.get("/v1/users/:userId", (c) => {
    const user = users.get(c.req.param("userId"));
    return user ? one(c, user) : notFound(c, c.req.param("userId"));
  });

  app.patch("/v1/users/:userId", async (c) => {
    const id = c.req.param("userId");
    const user = users.get(id);
    if (!user) return notFound(c, id);
    const parsed = UpdateBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      return error(c, 400, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
    }
    if (user.owner) return error(c, 403, "The account owner cannot be modified");
    const b = parsed.data;
    if (b.email && emailTaken(b.email, id)) {
      return error(c, 409, `User with email ${b.email} already exists`);
    }
    const bad = unknownRoles(b.roles);
    if (bad.length) return error(c, 404, `Entry Role not found by roleId ${bad.join(", ")}`);
    Object.assign(user, Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)));
    if (b.roles) user.roles = [...new Set(b.roles)].sort((x, y) => x - y);
    if (b.email) user.emailVerified = false;
    return one(c, user);
  });

  app.delete("/v1/users/:userId", (c) => {
    const id = c.req.param("userId");
    const user = users.get(id);
    if (!user) return notFound(c, id);
    if (user.owner) return error(c, 403, "The account owner cannot be deleted");
    users.delete(id);
    return c.body(null, 204);
  });

  app.notFound((c) => error(c, 404, `Cannot ${c.req.method} ${c.req.path}`));

  return {
    app,
    users,
    calls,
    tokensIssued: () => issued,
    expireTokens: () => tokens.clear(),
    failNext: (count, status, retryAfter) => {
      failures = { count, status, retryAfter };
    },
    setFaults: (f) => gate.set(f),
    setDown: (down) => gate.setDown(down),
    faultCounts: () => ({ ...gate.counts }),
    addUser: (u) => {
      const user: SimContaboUser = {
        userId: crypto.randomUUID(),
        firstName: "",
        lastName: "",
        emailVerified: true,
        enabled: true,
        totp: false,
        locale: "en",
        admin: false,
        accessAllResources: false,
        roles: [],
        owner: false,
        ...u,
      };
      users.set(user.userId, user);
      return user;
    },
  };
}
