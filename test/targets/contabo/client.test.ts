/** ContaboClient against the Contabo simulator over HTTP. */
import { afterEach, describe, expect, it } from "vitest";
import { ContaboClient, type ContaboClientOptions } from "../../../src/targets/contabo/client.ts";
import {
  CONTABO_SIM_CREDENTIALS,
  type ContaboSimulatorOptions,
} from "../../../src/targets/contabo/simulator/app.ts";
import { startContaboSimulator } from "../../../src/targets/contabo/simulator/server.ts";
import { contaboTarget } from "../../../src/targets/contabo/target.ts";
import { TargetApiError, TargetAuthError } from "../../../src/targets/errors.ts";
import { classifyFailure, describeFailure } from "../../../workers/failure_policy.ts";

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

async function setup(
  simOptions: ContaboSimulatorOptions = {},
  clientOptions: Partial<ContaboClientOptions> = {},
) {
  const { url, authUrl, sim, close } = await startContaboSimulator(simOptions);
  closers.push(close);
  const client = new ContaboClient({
    apiUrl: url,
    authUrl,
    credentials: { ...CONTABO_SIM_CREDENTIALS },
    baseDelayMs: 1,
    ...clientOptions,
  });
  return { sim, client };
}

const NEW_USER = {
  firstName: "Ada",
  lastName: "Lovelace",
  email: "ada@example.com",
  enabled: true,
  totp: false,
  admin: false,
  accessAllResources: false,
  locale: "en",
  roles: [101],
};

describe("ContaboClient", () => {
  it("creates a user without a password, reads, patches and deletes it", async () => {
    const { sim, client } = await setup();
    const created = await client.createUser(NEW_USER);
    expect(created).toMatchObject({ email: "ada@example.com", roles: [101], enabled: true });
    const post = sim.calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual(NEW_USER);
    expect(JSON.stringify(post.body)).not.toMatch(/password/i);

    expect(await client.getUser(created.userId)).toMatchObject({ userId: created.userId });
    const patched = await client.updateUser(created.userId, { enabled: false, roles: [] });
    expect(patched).toMatchObject({ enabled: false, roles: [] });
    expect(sim.users.get(created.userId)).toMatchObject({ enabled: false, roles: [] });

    expect(await client.deleteUser(created.userId)).toBe(true);
    expect(sim.users.has(created.userId)).toBe(false);
    // A retried delete after a lost answer: already gone is not an error.
    expect(await client.deleteUser(created.userId)).toBe(false);
    expect(await client.getUser(created.userId)).toBeUndefined();
  });

  it("sends a fresh x-request-id UUID on every call and fetches one token for them all", async () => {
    const { sim, client } = await setup();
    const u = await client.createUser(NEW_USER);
    await client.getUser(u.userId);
    await client.updateUser(u.userId, { firstName: "Augusta" });
    const ids = sim.calls.map((c) => c.requestId);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(3);
    expect(sim.tokensIssued()).toBe(1);
  });

  it("pages through every user with page and size", async () => {
    const { sim, client } = await setup({}, { pageSize: 3 });
    for (let i = 0; i < 8; i++) sim.addUser({ email: `u${i}@example.com` });
    const seen = [];
    for await (const u of client.listUsers()) seen.push(u.email);
    expect(seen.sort()).toEqual([...Array(8)].map((_, i) => `u${i}@example.com`).sort());
    const pages = sim.calls.filter((c) => c.method === "GET").length;
    expect(pages).toBe(3);
  });

  it("finds by email exactly, case-insensitively, although the API filter is a substring", async () => {
    const { sim, client } = await setup();
    sim.addUser({ email: "bob.smith@example.com" });
    const bob = sim.addUser({ email: "Bob@Example.com" });
    expect((await client.findUserByEmail("bob@example.com"))?.userId).toBe(bob.userId);
    expect(await client.findUserByEmail("smith@example.com")).toBeUndefined();
  });

  it("answers 409 on a taken email as a permanent TargetApiError", async () => {
    const { client } = await setup();
    await client.createUser(NEW_USER);
    const error = await client.createUser({ ...NEW_USER, email: "ADA@example.com" }).catch((e) =>
      e
    );
    expect(error).toBeInstanceOf(TargetApiError);
    expect(error).toMatchObject({ status: 409, retryable: false, route: "/v1/users" });
    expect(classifyFailure(error)).toBe("permanent");
    expect(describeFailure(error)).toContain("contabo 409 on POST /v1/users");
  });

  it("gets a new token after a 401 and repeats the call once", async () => {
    const { sim, client } = await setup();
    const u = await client.createUser(NEW_USER);
    sim.expireTokens();
    expect(await client.getUser(u.userId)).toMatchObject({ userId: u.userId });
    expect(sim.tokensIssued()).toBe(2);
  });

  it("waits out a 429 with Retry-After and retries; gives up retryable after maxAttempts", async () => {
    const { sim, client } = await setup({}, { maxAttempts: 2 });
    sim.failNext(1, 429, 0);
    expect(await client.findUserByEmail("x@example.com")).toBeUndefined();
    sim.failNext(5, 503);
    const error = await client.findUserByEmail("x@example.com").catch((e) => e);
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect(classifyFailure(error)).toBe("retry");
  });

  it("does not repeat a POST after a 5xx: it may have been applied", async () => {
    const { sim, client } = await setup();
    sim.failNext(1, 502);
    const error = await client.createUser(NEW_USER).catch((e) => e);
    expect(error).toMatchObject({ status: 502, retryable: true });
    expect(sim.calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });

  it("keeps to the simulator's rate limit through 429s without failing", async () => {
    const { sim, client } = await setup({ rateLimitPerSecond: 3 }, { maxAttempts: 6 });
    for (let i = 0; i < 6; i++) await client.findUserByEmail(`n${i}@example.com`);
    expect(sim.calls.some((c) => c.status === 429)).toBe(true);
  });

  it("the seam: contaboTarget maps users and deactivates by enabled=false", async () => {
    const { client } = await setup();
    const target = contaboTarget(client);
    expect(target.capabilities.groups).toBe(false);
    const user = await target.users.createUser({
      email: "c@example.com",
      firstName: "C",
      lastName: "D",
      enabled: true,
      admin: true,
      roleIds: ["102", "101"],
    });
    expect(user).toMatchObject({ admin: true, roleIds: ["101", "102"], status: "active" });
    expect(await target.users.deactivateUser(user.id)).toMatchObject({ enabled: false });
    const all = [];
    for await (const u of target.users.listUsers()) all.push(u.id);
    expect(all).toEqual([user.id]);
  });
});

describe("Contabo secrets", () => {
  it("wrong credentials stop with a permanent error naming no secret", async () => {
    const { client } = await setup({}, {
      credentials: { ...CONTABO_SIM_CREDENTIALS, apiPassword: "wrong-PASSWORD-999" },
    });
    const error = await client.getUser("x").catch((e) => e);
    expect(error).toBeInstanceOf(TargetAuthError);
    expect(error.retryable).toBe(false);
    expect(classifyFailure(error)).toBe("permanent");
    const text = `${error.message} ${describeFailure(error)} ${JSON.stringify(error)}`;
    expect(text).toContain("invalid_grant");
    for (const secret of ["wrong-PASSWORD-999", CONTABO_SIM_CREDENTIALS.clientSecret]) {
      expect(text).not.toContain(secret);
    }
  });

  it("an error body echoing a secret or the token is scrubbed", async () => {
    let token = "";
    const echo: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith("/token")) {
        token = "tok-SECRET-abcdef123456";
        return Promise.resolve(Response.json({ access_token: token, expires_in: 300 }));
      }
      const auth = new Headers(init?.headers).get("authorization");
      return Promise.resolve(Response.json(
        {
          statusCode: 400,
          message: `bad request: ${auth} ${CONTABO_SIM_CREDENTIALS.apiPassword} ${
            encodeURIComponent(CONTABO_SIM_CREDENTIALS.clientSecret)
          }`,
        },
        { status: 400 },
      ));
    };
    const client = new ContaboClient({
      apiUrl: "http://127.0.0.1:9",
      authUrl: "http://127.0.0.1:9/token",
      credentials: { ...CONTABO_SIM_CREDENTIALS },
      fetch: echo,
    });
    const error = await client.getUser("x").catch((e) => e);
    expect(error).toBeInstanceOf(TargetApiError);
    const text = `${error.message} ${describeFailure(error)} ${error.stack}`;
    expect(text).toContain("[redacted]");
    for (
      const secret of [
        token,
        CONTABO_SIM_CREDENTIALS.apiPassword,
        CONTABO_SIM_CREDENTIALS.clientSecret,
      ]
    ) {
      expect(text).not.toContain(secret);
    }
  });
});
