/**
 * A faithful in-memory Cloudflare for account members and IAM user groups: the v4 envelope on
 * every answer (`success`, `errors`, `messages`, `result`, `result_info`), page/per_page paging,
 * bearer API tokens, invitations that stay `pending` until `acceptInvitation`, user group
 * members added (POST `[{id}]`), replaced (PUT `[{id}]`) and removed, and the published rate
 * limit: past `rateLimit` requests in `rateLimitWindowMs` (1200 per five minutes, see
 * client.ts for the source) every call answers 429 with `retry-after` until the window ends.
 * Faults: the next N calls, or the IONOS simulator's knobs (5xx, 429, latency, lost answers;
 * `src/targets/simulator/fault_gate.ts`) and "down".
 *
 * Error codes: 10000 "Authentication error" and 7003 / 7000 for unknown routes and objects are
 * the ones Cloudflare answers; the code for inviting an email that is already a member is not
 * published, so the simulator uses 1001 with HTTP 400, and clients must not depend on it.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { FaultKind, Faults } from "../../simulator/faults.ts";
import { FaultGate } from "../../simulator/fault_gate.ts";

/** The simulator's API token and account unless options say otherwise. */
export const CLOUDFLARE_SIM_TOKEN = "cf-sim-TOKEN-SECRET-0123456789";
export const CLOUDFLARE_SIM_ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353";
/** Account roles that exist in the simulator. */
export const CLOUDFLARE_SIM_ROLES = {
  "05784afa30c1afe1440e79d9351c7430": "Administrator Read Only",
  "33666b9c79b9a5273fc7344ff42f953d": "Super Administrator - All Privileges",
  "3536bcfad5faccb999b47003c79917fb": "DNS",
} as const;

/** Options for {@linkcode createCloudflareSimulator}. */
export interface CloudflareSimulatorOptions {
  token?: string;
  accountId?: string;
  /** Requests per window; 0 is unlimited. @default 1200 */
  rateLimit?: number;
  /** @default 300_000 (five minutes) */
  rateLimitWindowMs?: number;
  /** @default Date.now */
  now?: () => number;
  /** Seed of the fault dice. @default 1 */
  seed?: number;
  /** Faults in force from the start (as the IONOS simulator's). @default none */
  faults?: Faults;
}

export interface SimMember {
  id: string;
  email: string;
  status: "accepted" | "pending";
  roles: string[];
}

export interface SimUserGroup {
  id: string;
  name: string;
  policies: {
    id: string;
    access: "allow" | "deny";
    permission_groups: { id: string }[];
    resource_groups: { id: string }[];
  }[];
  members: Set<string>;
  created_on: string;
  modified_on: string;
}

export interface CloudflareSimCall {
  method: string;
  path: string;
  status: number;
  body?: unknown;
  /** Set when the answer came from fault injection (`lostAnswer`: applied, answered 5xx). */
  fault?: FaultKind;
}

/** A simulator's handles. */
export interface CloudflareSimulator {
  readonly app: Hono;
  readonly members: Map<string, SimMember>;
  readonly userGroups: Map<string, SimUserGroup>;
  readonly calls: readonly CloudflareSimCall[];
  /** The person accepts the invitation sent to `email`. */
  acceptInvitation(email: string): void;
  /** Adds a member as if invited by hand and accepted. */
  addMember(email: string, roles?: string[]): SimMember;
  /**
   * The next `count` calls answer `status` with an error envelope; a 429 carries the rate
   * limit's code and `retry-after: retryAfterSeconds` (default 1).
   */
  failNext(count: number, status: number, retryAfterSeconds?: number): void;
  /** Replaces the faults in force (`{}`: none). @throws {TypeError | RangeError} */
  setFaults(faults: Faults): void;
  /** Down: every call answers 503 until `setDown(false)`. */
  setDown(down: boolean): void;
  /** Faults injected so far, by kind. */
  faultCounts(): Readonly<Record<FaultKind | "down", number>>;
}

const hex32 = () => crypto.randomUUID().replaceAll("-", "");
const Hex32 = z.string().regex(/^[0-9a-f]{32}$/i);
const PolicyIn = z.object({
  access: z.enum(["allow", "deny"]),
  permission_groups: z.array(z.object({ id: Hex32 })).min(1),
  resource_groups: z.array(z.object({ id: Hex32 })).min(1),
});
const GroupIn = z.object({
  name: z.string().min(1).max(255),
  policies: z.array(PolicyIn).optional(),
});
const GroupUpdateIn = GroupIn.partial();
const MemberIn = z.object({
  email: z.email().max(90),
  roles: z.array(Hex32).optional(),
  policies: z.array(z.unknown()).optional(),
  status: z.enum(["accepted", "pending"]).optional(),
});
const MemberRefs = z.array(z.object({ id: Hex32 }));

/** Creates the simulator app, served under `/client/v4`. */
export function createCloudflareSimulator(
  options: CloudflareSimulatorOptions = {},
): CloudflareSimulator {
  const {
    token = CLOUDFLARE_SIM_TOKEN,
    accountId = CLOUDFLARE_SIM_ACCOUNT,
    rateLimit = 1200,
    rateLimitWindowMs = 300_000,
    now = Date.now,
    seed = 1,
    faults = {},
  } = options;
  const gate = new FaultGate(seed, faults);
  const members = new Map<string, SimMember>();
  const userGroups = new Map<string, SimUserGroup>();
  const calls: CloudflareSimCall[] = [];
  let window = { start: 0, count: 0 };
  let failures = { count: 0, status: 500, retryAfter: 1 };
  const app = new Hono().basePath("/client/v4");

  const fail = (c: Context, status: number, code: number, message: string) =>
    c.json(
      { success: false, errors: [{ code, message }], messages: [], result: null },
      status as 400,
    );
  const rateLimited = (c: Context, retryAfterSeconds: number) => {
    c.header("retry-after", String(retryAfterSeconds));
    return fail(
      c,
      429,
      10013,
      "Rate limited. Please wait and consider throttling your request speed",
    );
  };
  const ok = (c: Context, result: unknown, resultInfo?: unknown) =>
    c.json({
      success: true,
      errors: [],
      messages: [],
      result,
      result_info: resultInfo,
    });
  const page = <T>(c: Context, items: T[], maxPerPage: number) => {
    const p = Number(c.req.query("page") ?? 1);
    const per = Number(c.req.query("per_page") ?? 20);
    if (!Number.isInteger(p) || p < 1 || !Number.isInteger(per) || per < 5 || per > maxPerPage) {
      return fail(
        c,
        400,
        1004,
        `per_page must be between 5 and ${maxPerPage}; page must be positive`,
      );
    }
    const slice = items.slice((p - 1) * per, p * per);
    return ok(c, slice, {
      page: p,
      per_page: per,
      count: slice.length,
      total_count: items.length,
      total_pages: Math.max(1, Math.ceil(items.length / per)),
    });
  };
  const renderMember = (m: SimMember) => ({
    id: m.id,
    email: m.email,
    status: m.status,
    roles: m.roles.map((id) => ({
      id,
      name: CLOUDFLARE_SIM_ROLES[id as keyof typeof CLOUDFLARE_SIM_ROLES] ?? "role",
      description: "",
      permissions: {},
    })),
    policies: [],
    user: {
      id: m.status === "accepted" ? m.id : null,
      email: m.email,
      first_name: null,
      last_name: null,
      two_factor_authentication_enabled: false,
    },
  });
  const renderGroup = (g: SimUserGroup) => ({
    id: g.id,
    name: g.name,
    policies: g.policies,
    created_on: g.created_on,
    modified_on: g.modified_on,
  });
  const groupMember = (id: string) => {
    const m = members.get(id)!;
    return { id: m.id, email: m.email, status: m.status };
  };
  const policiesOf = (ps: z.infer<typeof PolicyIn>[] | undefined) =>
    (ps ?? []).map((p) => ({ id: hex32(), ...p }));

  app.use("*", async (c, next) => {
    const record: CloudflareSimCall = { method: c.req.method, path: c.req.path, status: 0 };
    if (["POST", "PUT"].includes(c.req.method)) {
      record.body = await c.req.raw.clone().json().catch(() => undefined);
    }
    calls.push(record);
    if (c.req.header("authorization") !== `Bearer ${token}`) {
      record.status = 403;
      return fail(c, 403, 10000, "Authentication error");
    }
    if (rateLimit > 0) {
      const t = now();
      if (t - window.start >= rateLimitWindowMs) window = { start: t, count: 0 };
      if (++window.count > rateLimit) {
        record.status = 429;
        return rateLimited(c, Math.ceil((window.start + rateLimitWindowMs - t) / 1000));
      }
    }
    if (failures.count > 0) {
      failures.count--;
      record.status = failures.status;
      if (failures.status === 429) return rateLimited(c, failures.retryAfter);
      return fail(c, failures.status, 10001, "injected failure");
    }
    const decision = gate.decide(c.req.method, c.req.path.slice("/client/v4".length));
    if (decision.delayMs) await new Promise((r) => setTimeout(r, decision.delayMs));
    if (decision.fault) record.fault = decision.fault;
    if (decision.fault === "rate429") {
      record.status = 429;
      return rateLimited(c, 1);
    }
    if (decision.fault === "error5xx") {
      record.status = decision.status;
      return fail(c, decision.status, 10001, "injected failure");
    }
    await next();
    if (decision.fault === "lostAnswer") {
      // Applied, but the answer the client reads is a gateway error.
      c.res = fail(c, decision.status, 10001, "injected failure");
    }
    record.status = c.res.status;
  });

  const acct = "/accounts/:account";
  const checkAccount = (c: Context) => c.req.param("account") === accountId;
  const noAccount = (c: Context) => fail(c, 403, 9109, "Unauthorized to access requested resource");

  // --- account members ---
  app.get(`${acct}/members`, (c) => {
    if (!checkAccount(c)) return noAccount(c);
    const all = [...members.values()].sort((a, b) => a.email.localeCompare(b.email)).map(
      renderMember,
    );
    return page(c, all, 50);
  });
  app.post(`${acct}/members`, async (c) => {
    if (!checkAccount(c)) return noAccount(c);
    const parsed = MemberIn.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      return fail(c, 400, 1001, `invalid member: ${parsed.error.issues[0]?.message}`);
    }
    const b = parsed.data;
    if (!b.roles?.length && !b.policies?.length) {
      return fail(c, 400, 1001, "roles or policies are required");
    }
    const unknown = (b.roles ?? []).filter((r) => !(r in CLOUDFLARE_SIM_ROLES));
    if (unknown.length) return fail(c, 400, 1001, `unknown role ${unknown.join(", ")}`);
    if ([...members.values()].some((m) => m.email.toLowerCase() === b.email.toLowerCase())) {
      return fail(c, 400, 1001, "A member with this email already exists");
    }
    const m: SimMember = {
      id: hex32(),
      email: b.email,
      status: "pending",
      roles: [...(b.roles ?? [])],
    };
    members.set(m.id, m);
    return ok(c, renderMember(m));
  });
  app.get(`${acct}/members/:id`, (c) => {
    if (!checkAccount(c)) return noAccount(c);
    const m = members.get(c.req.param("id"));
    return m ? ok(c, renderMember(m)) : fail(c, 404, 7003, "Member not found");
  });
  app.delete(`${acct}/members/:id`, (c) => {
    if (!checkAccount(c)) return noAccount(c);
    const id = c.req.param("id");
    if (!members.delete(id)) return fail(c, 404, 7003, "Member not found");
    for (const g of userGroups.values()) g.members.delete(id);
    return ok(c, { id });
  });

  // --- user groups ---
  app.get(`${acct}/iam/user_groups`, (c) => {
    if (!checkAccount(c)) return noAccount(c);
    const all = [...userGroups.values()].sort((a, b) => a.name.localeCompare(b.name)).map(
      renderGroup,
    );
    return page(c, all, 100);
  });
  app.post(`${acct}/iam/user_groups`, async (c) => {
    if (!checkAccount(c)) return noAccount(c);
    const parsed = GroupIn.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      return fail(c, 400, 1001, `invalid user group: ${parsed.error.issues[0]?.message}`);
    }
    const t = new Date(now()).toISOString();
    const g: SimUserGroup = {
      id: hex32(),
      name: parsed.data.name,
      policies: policiesOf(parsed.data.policies),
      members: new Set(),
      created_on: t,
      modified_on: t,
    };
    userGroups.set(g.id, g);
    return ok(c, renderGroup(g));
  });
  const withGroup = (c: Context, fn: (g: SimUserGroup) => Response | Promise<Response>) => {
    if (!checkAccount(c)) return noAccount(c);
    const g = userGroups.get(c.req.param("group")!);
    return g ? fn(g) : fail(c, 404, 7003, "User group not found");
  };
  app.get(`${acct}/iam/user_groups/:group`, (c) => withGroup(c, (g) => ok(c, renderGroup(g))));
  app.put(`${acct}/iam/user_groups/:group`, (c) =>
    withGroup(c, async (g) => {
      const parsed = GroupUpdateIn.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) {
        return fail(c, 400, 1001, `invalid user group: ${parsed.error.issues[0]?.message}`);
      }
      if (parsed.data.name !== undefined) {
        g.name = parsed.data.name;
      }
      if (parsed.data.policies !== undefined) {
        g.policies = policiesOf(parsed.data.policies);
      }
      g.modified_on = new Date(now()).toISOString();
      return ok(c, renderGroup(g));
    }));
  app.delete(`${acct}/iam/user_groups/:group`, (c) =>
    withGroup(c, (g) => {
      userGroups.delete(g.id);
      return ok(c, { id: g.id });
    }));

  // --- user group members ---
  const refs = async (c: Context): Promise<string[] | Response> => {
    const parsed = MemberRefs.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return fail(c, 400, 1001, "body must be an array of { id }");
    const ids = parsed.data.map((r) => r.id);
    const unknown = ids.filter((id) => !members.has(id));
    if (unknown.length) return fail(c, 400, 1001, `not an account member: ${unknown.join(", ")}`);
    return ids;
  };
  app.get(
    `${acct}/iam/user_groups/:group/members`,
    (c) => withGroup(c, (g) => page(c, [...g.members].sort().map(groupMember), 50)),
  );
  app.post(`${acct}/iam/user_groups/:group/members`, (c) =>
    withGroup(c, async (g) => {
      const ids = await refs(c);
      if (ids instanceof Response) return ids;
      ids.forEach((id) => g.members.add(id));
      return ok(c, ids.map(groupMember));
    }));
  app.put(`${acct}/iam/user_groups/:group/members`, (c) =>
    withGroup(c, async (g) => {
      const ids = await refs(c);
      if (ids instanceof Response) return ids;
      g.members = new Set(ids);
      return ok(c, [...g.members].map(groupMember));
    }));
  app.delete(`${acct}/iam/user_groups/:group/members/:member`, (c) =>
    withGroup(c, (g) => {
      const id = c.req.param("member")!;
      if (!g.members.has(id)) return fail(c, 404, 7003, "Member not in user group");
      g.members.delete(id);
      return ok(c, groupMember(id));
    }));

  app.notFound((c) => fail(c, 404, 7000, "No route for that URI"));

  return {
    app,
    members,
    userGroups,
    calls,
    acceptInvitation: (email) => {
      for (const m of members.values()) {
        if (m.email.toLowerCase() === email.toLowerCase()) m.status = "accepted";
      }
    },
    addMember: (email, roles = ["05784afa30c1afe1440e79d9351c7430"]) => {
      const m: SimMember = { id: hex32(), email, status: "accepted", roles };
      members.set(m.id, m);
      return m;
    },
    failNext: (count, status, retryAfter = 1) => {
      failures = { count, status, retryAfter };
    },
    setFaults: (f) => gate.set(f),
    setDown: (down) => gate.setDown(down),
    faultCounts: () => ({ ...gate.counts }),
  };
}
