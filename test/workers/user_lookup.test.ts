/**
 * UserLookup against the simulator over HTTP: a few lookups go one by one (`filter.email`), many
 * in one window share one paged listing, and a listing never reads more pages than the lookups
 * it would save. Calls are counted in the simulator's call log.
 */
import { afterEach, describe, expect, it } from "vitest";
import { IonosClient } from "../../src/targets/ionos/client.ts";
import { PendingWrites } from "../../src/targets/ionos/pending_writes.ts";
import { startIonosSimulator } from "../../src/targets/ionos/simulator/mod.ts";
import { UserLookup } from "../../workers/user_lookup.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function contractWith(users: number) {
  const running = await startIonosSimulator({ rateLimitPerSecond: 0, requestDelayMs: 0, seed: 3 });
  closers.push(running.close);
  const ionos = new IonosClient({ baseUrl: running.url, auth: { token: "sim-token" } });
  // Seeded without waiting for each request (requests take 0 ms here).
  const seeding = ionos.deferring(new PendingWrites());
  for (let i = 0; i < users; i++) {
    await seeding.createUser({
      firstname: "U",
      lastname: String(i),
      email: `user${i}@example.com`,
      password: "Sim-password-0123456789",
      administrator: false,
      forceSecAuth: false,
      active: true,
    });
  }
  const calls = () => running.sim.callLog.filter((c) => c.method === "GET");
  return { ionos, calls, since: running.sim.callLog.length, sim: running.sim };
}

const isListing = (c: { path: string; query: Record<string, string> }) =>
  c.path.endsWith("/um/users") && !c.query["filter.email"];
const isFilter = (c: { query: Record<string, string> }) => !!c.query["filter.email"];

describe("UserLookup", () => {
  it("looks a few emails up one by one", async () => {
    const { ionos, calls } = await contractWith(3);
    const lookup = new UserLookup(ionos, { minLookupsForListing: 20 });
    const found = await lookup.find("USER1@example.com");
    const missing = await lookup.find("nobody@example.com");
    expect(found).toMatchObject({ fromListing: false });
    expect(found.user?.properties.email).toBe("user1@example.com");
    expect(missing).toEqual({ user: undefined, fromListing: false });
    expect(calls().filter(isFilter)).toHaveLength(2);
    expect(calls().filter(isListing)).toHaveLength(0);
  });

  it("answers many lookups of one window from one listing", async () => {
    const { ionos, calls } = await contractWith(150);
    const lookup = new UserLookup(ionos, { minLookupsForListing: 5 });
    const emails = Array.from({ length: 40 }, (_, i) => `user${i * 3}@example.com`);
    const results = await Promise.all(emails.map((e) => lookup.find(e)));
    for (const [i, r] of results.entries()) {
      expect(r.user?.properties.email).toBe(emails[i]!.toLowerCase());
    }
    // 4 lookups one by one until the count says a listing pays, then 2 pages for 150 users.
    expect(calls().filter(isFilter)).toHaveLength(4);
    expect(calls().filter(isListing)).toHaveLength(2);
    expect(results.filter((r) => r.fromListing)).toHaveLength(36);
    expect((await lookup.find("user151@example.com")).user).toBeUndefined();
  });

  it("looks an email up on its own again once a listing's answer proved stale", async () => {
    const { ionos, calls } = await contractWith(2);
    const lookup = new UserLookup(ionos, { minLookupsForListing: 1 });
    expect((await lookup.find("late@example.com")).fromListing).toBe(true);
    // The account appears in IONOS after the listing.
    await ionos.createUser({
      firstname: "L",
      lastname: "Ate",
      email: "late@example.com",
      password: "Sim-password-0123456789",
      administrator: false,
      forceSecAuth: false,
      active: true,
    });
    expect((await lookup.find("late@example.com")).user).toBeUndefined(); // stale listing
    lookup.distrust("late@example.com");
    const again = await lookup.find("late@example.com");
    expect(again.fromListing).toBe(false);
    expect(again.user?.properties.email).toBe("late@example.com");
    expect(calls().filter(isFilter)).toHaveLength(1);
  });

  it("never reads more listing pages than the lookups it would answer", async () => {
    const { ionos, calls } = await contractWith(350);
    const lookup = new UserLookup(ionos, { minLookupsForListing: 2 });
    await lookup.find("user1@example.com");
    const second = await lookup.find("user2@example.com");
    // 4 pages would be needed; 2 lookups are worth at most 2: the walk stops, one by one it is.
    expect(second).toMatchObject({ fromListing: false });
    expect(second.user?.properties.email).toBe("user2@example.com");
    expect(calls().filter(isListing).length).toBeLessThanOrEqual(3);
    const before = calls().filter(isListing).length;
    await lookup.find("user3@example.com");
    expect(calls().filter(isListing).length).toBe(before); // the count no longer says list
  });
});
