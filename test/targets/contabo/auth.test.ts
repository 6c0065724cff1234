/** ContaboTokenSource against the simulator's token endpoint, with the clock faked. */
import { afterEach, describe, expect, it } from "vitest";
import { ContaboTokenSource } from "../../../src/targets/contabo/auth.ts";
import { CONTABO_SIM_CREDENTIALS } from "../../../src/targets/contabo/simulator/app.ts";
import { startContaboSimulator } from "../../../src/targets/contabo/simulator/server.ts";
import { TargetAuthError } from "../../../src/targets/errors.ts";

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

async function setup(lifetime = 300) {
  const running = await startContaboSimulator({ tokenLifetimeSeconds: lifetime });
  closers.push(running.close);
  let now = 1_000_000;
  const source = new ContaboTokenSource({
    authUrl: running.authUrl,
    credentials: { ...CONTABO_SIM_CREDENTIALS },
    refreshMarginMs: 30_000,
    now: () => now,
  });
  return { sim: running.sim, source, advance: (ms: number) => (now += ms) };
}

describe("ContaboTokenSource", () => {
  it("keeps a token until the refresh margin before it lapses, then fetches a new one", async () => {
    const { sim, source, advance } = await setup(300);
    const first = await source.token();
    advance(269_000);
    expect(await source.token()).toBe(first);
    expect(sim.tokensIssued()).toBe(1);
    advance(2_000); // 271 s: inside the 30 s margin
    const second = await source.token();
    expect(second).not.toBe(first);
    expect(sim.tokensIssued()).toBe(2);
  });

  it("concurrent callers share one token request", async () => {
    const { sim, source } = await setup();
    const tokens = await Promise.all([...Array(5)].map(() => source.token()));
    expect(new Set(tokens).size).toBe(1);
    expect(sim.tokensIssued()).toBe(1);
  });

  it("lists the token among its secrets once it has one, so errors can scrub it", async () => {
    const { source } = await setup();
    const token = await source.token();
    expect(source.secrets()).toEqual(
      expect.arrayContaining([
        CONTABO_SIM_CREDENTIALS.clientSecret,
        CONTABO_SIM_CREDENTIALS.apiPassword,
        token,
      ]),
    );
  });

  it("a token endpoint that is not there is retryable; wrong client credentials are not", async () => {
    const down = new ContaboTokenSource({
      authUrl: "http://127.0.0.1:9/token",
      credentials: { ...CONTABO_SIM_CREDENTIALS },
    });
    const error = await down.token().catch((e) => e);
    expect(error).toBeInstanceOf(TargetAuthError);
    expect(error.retryable).toBe(true);

    const running = await startContaboSimulator();
    closers.push(running.close);
    const wrong = new ContaboTokenSource({
      authUrl: running.authUrl,
      credentials: { ...CONTABO_SIM_CREDENTIALS, clientSecret: "wrong-client-SECRET" },
    });
    const refused = await wrong.token().catch((e) => e);
    expect(refused).toMatchObject({ retryable: false, status: 401 });
    expect(refused.message).toContain("unauthorized_client");
    expect(refused.message).not.toContain("wrong-client-SECRET");
  });
});
