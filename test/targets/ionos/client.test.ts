/** IonosClient against the IONOS simulator over HTTP. */
import { afterEach, describe, expect, it } from "vitest";
import { IonosClient, type IonosClientOptions } from "../../../src/targets/ionos/client.ts";
import { IonosApiError } from "../../../src/targets/ionos/errors.ts";
import { IONOS_PRIVILEGES, type IonosGroupProperties } from "../../../src/targets/ionos/types.ts";
import {
  type IonosSimulator,
  type SimulatorOptions,
  startIonosSimulator,
} from "../../../src/targets/ionos/simulator/mod.ts";

const TOKEN = "sim-SECRET-token-4711";
const PASSWORD = "Pw-SECRET-0815-long";

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

async function setup(
  simOptions: SimulatorOptions = {},
  clientOptions: Partial<IonosClientOptions> = {},
): Promise<{ sim: IonosSimulator; ionos: IonosClient; options: IonosClientOptions }> {
  const { url, sim, close } = await startIonosSimulator({
    token: TOKEN,
    rateLimitPerSecond: 0,
    ...simOptions,
  });
  closers.push(close);
  const options: IonosClientOptions = {
    baseUrl: url,
    auth: { token: TOKEN },
    baseDelayMs: 5,
    requestPollIntervalMs: 10,
    ...clientOptions,
  };
  return { sim, ionos: new IonosClient(options), options };
}

const newUser = (email: string) => ({
  firstname: "Ada",
  lastname: "Lovelace",
  email,
  password: PASSWORD,
  administrator: false,
  forceSecAuth: false,
  active: true,
});

const group = (name: string, on: string[] = []): IonosGroupProperties => {
  const g = { name } as IonosGroupProperties;
  for (const p of IONOS_PRIVILEGES) g[p] = on.includes(p);
  return g;
};

describe("IonosClient with the simulator", () => {
  it("waits for each write's request to reach DONE before the next dependent step", async () => {
    // requireCreateDone (default) answers 422 if the member is added before the creates are DONE.
    const { sim, ionos } = await setup({ requestDelayMs: 80 });
    const user = await ionos.createUser(newUser("ada@example.com"));
    const g = await ionos.createGroup(group("ops", ["createDataCenter", "reserveIp"]));
    await ionos.addGroupMember(g.id, user.id);

    expect(user.properties.email).toBe("ada@example.com");
    expect(g.properties.createDataCenter).toBe(true);
    expect((await ionos.listGroupMembers(g.id)).map((u) => u.id)).toEqual([user.id]);
    expect((await ionos.getUserGroups(user.id)).map((x) => x.id)).toEqual([g.id]);
    const polls = sim.callLog.filter((c) => c.path.includes("/requests/"));
    expect(polls.length).toBeGreaterThanOrEqual(3);

    const updated = await ionos.updateUser(user.id, {
      ...user.properties,
      lastname: "King",
    });
    expect(updated.properties.lastname).toBe("King");
    const renamed = await ionos.updateGroup(g.id, { ...g.properties, name: "ops-2" });
    expect(renamed.properties.name).toBe("ops-2");
    expect(sim.state.group(g.id)?.properties.reserveIp).toBe(true);

    await ionos.removeGroupMember(g.id, user.id);
    expect(await ionos.listGroupMembers(g.id)).toEqual([]);
  });

  it("findUserByEmail() matches case-insensitively and returns undefined for none", async () => {
    const { sim, ionos } = await setup({ requestDelayMs: 0 });
    const created = await ionos.createUser(newUser("Grace.Hopper@Example.com"));
    expect((await ionos.findUserByEmail("grace.hopper@example.COM"))?.id).toBe(created.id);
    expect(await ionos.findUserByEmail("nobody@example.com")).toBeUndefined();
    const lookup = sim.callLog.filter((c) => c.method === "GET" && c.path.endsWith("/um/users"));
    expect(lookup[0]?.query["filter.email"]).toBe("grace.hopper@example.COM");
  });

  it("answers 404 as undefined for reads and as done for deletes", async () => {
    const { ionos } = await setup({ requestDelayMs: 0 });
    expect(await ionos.getUser("no-such-user")).toBeUndefined();
    expect(await ionos.getGroup("no-such-group")).toBeUndefined();
    await ionos.deleteUser("no-such-user");
    await ionos.deleteGroup("no-such-group");

    const u = await ionos.createUser(newUser("gone@example.com"));
    const g = await ionos.createGroup(group("g"));
    await ionos.removeGroupMember(g.id, u.id); // not a member: 404, done
    await ionos.deleteUser(u.id);
    await ionos.deleteGroup(g.id);
    expect(await ionos.getUser(u.id)).toBeUndefined();
    await ionos.deleteUser(u.id); // again: already gone
  });

  it("throws a permanent IonosApiError with the IONOS message on 422", async () => {
    const { ionos } = await setup({ requestDelayMs: 0 });
    await ionos.createUser(newUser("dup@example.com"));
    const err = await ionos.createUser(newUser("DUP@example.com")).catch((e) => e);
    expect(err).toBeInstanceOf(IonosApiError);
    expect(err.status).toBe(422);
    expect(err.retryable).toBe(false);
    expect(err.route).toBe("/um/users");
    expect(err.ionosMessage).toMatch(/VDC-sim-422/);
    expect(err.message).toContain(err.ionosMessage);
    expect(String(err) + JSON.stringify(err)).not.toContain(PASSWORD);
  });

  it("honours 429 Retry-After and then succeeds", async () => {
    const retries: number[] = [];
    const { sim, ionos } = await setup(
      { rateLimitPerSecond: 1, rateLimitBurst: 1 },
      { onRetry: (i) => retries.push(i.delayMs) },
    );
    sim.state.addUser({ firstname: "A", lastname: "B", email: "rl@example.com" });
    const started = Date.now();
    const found = await Promise.all([1, 2].map(() => ionos.findUserByEmail("rl@example.com")));
    expect(found.every((u) => u?.properties.email === "rl@example.com")).toBe(true);
    expect(sim.stats().rateLimited).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toBe(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it.each(["GET", "PUT"] as const)("retries a 5xx on %s", async (method) => {
    const { sim, ionos, options } = await setup({ requestDelayMs: 0 });
    const u = await ionos.createUser(newUser(`retry-${method}@example.com`));
    let retried = 0;
    const client = new IonosClient({
      ...options,
      onRetry: () => {
        retried++;
        sim.setFaults({}); // one failure is enough to prove the retry
      },
    });
    sim.setFaults({ error5xxRate: 1, status5xx: 503, methods: [method] });
    const result = method === "GET"
      ? await client.getUser(u.id)
      : await client.updateUser(u.id, { ...u.properties, firstname: "Augusta" });
    expect(result?.id).toBe(u.id);
    expect(retried).toBe(1);
    expect(sim.callLog.filter((c) => c.method === method && c.status === 503)).toHaveLength(1);
  });

  it("does not retry a POST on 5xx: the write may have been applied", async () => {
    const { sim, ionos } = await setup({
      requestDelayMs: 0,
      faults: { lostAnswerRate: 1, methods: ["POST"] },
    });
    const err = await ionos.createUser(newUser("lost@example.com")).catch((e) => e);
    expect(err).toBeInstanceOf(IonosApiError);
    expect(err.status).toBe(500);
    expect(err.retryable).toBe(true);
    expect(sim.callLog.filter((c) => c.method === "POST")).toHaveLength(1);
    // The job layer looks up before it retries: the user is there.
    expect(await ionos.findUserByEmail("lost@example.com")).toBeDefined();

    sim.setFaults({ error5xxRate: 1, methods: ["POST"] });
    const err2 = await ionos.createGroup(group("never")).catch((e) => e);
    expect(err2.retryable).toBe(true);
    expect(sim.callLog.filter((c) => c.method === "POST")).toHaveLength(2);
  });

  it("pages through every user", async () => {
    const { sim, ionos } = await setup();
    for (let i = 0; i < 230; i++) {
      sim.state.addUser({ firstname: "U", lastname: String(i), email: `u${i}@example.com` });
    }
    const ids = new Set<string>();
    for await (const u of ionos.iterateUsers()) ids.add(u.id);
    expect(ids.size).toBe(230);
    const offsets = sim.callLog.map((c) => c.query.offset);
    expect(offsets).toEqual(["0", "100", "200"]);
    const page = await ionos.listUsers({ offset: 200, limit: 50 });
    expect(page.items).toHaveLength(30);
  });

  it("keeps the token out of a 401 error", async () => {
    const { options } = await setup();
    const wrong = new IonosClient({ ...options, auth: { token: "wrong-SECRET-tok" } });
    const err = await wrong.getUser("x").catch((e) => e);
    expect(err).toBeInstanceOf(IonosApiError);
    expect(err.status).toBe(401);
    expect(err.retryable).toBe(false);
    for (const secret of ["wrong-SECRET-tok", TOKEN]) {
      expect(String(err)).not.toContain(secret);
      expect(JSON.stringify(err)).not.toContain(secret);
    }
  });
});
