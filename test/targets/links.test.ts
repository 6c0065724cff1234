/** TargetLinks against a real Redis: one target object, one IdP owner, even under a race. */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeKeys } from "../../src/store/keys.ts";
import { TargetClaimedError, TargetLinks } from "../../src/targets/links.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
let conn: Redis;
beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url);
});
afterAll(async () => {
  conn?.disconnect();
  await redis?.stop();
});

describe("TargetLinks.link()", () => {
  it("links an object nobody holds, and again for the same IdP entity", async () => {
    const links = new TargetLinks(conn, "contabo", { prefix: "l1" });
    await links.markCreating("user", "u1", "ada@example.com");
    await links.link("user", "u1", "c1", "created");
    await links.link("user", "u1", "c1", "created");
    expect(await links.get("user", "u1")).toMatchObject({ targetId: "c1", origin: "created" });
    expect((await links.get("user", "u1")).creating).toBeUndefined();
    expect(await links.holderOf("user", "c1")).toBe("u1");
  });

  it("refuses an object another IdP entity holds: two jobs at once cannot both take it", async () => {
    const links = new TargetLinks(conn, "contabo", { prefix: "l2" });
    // Both jobs found the account free; both link at once (model test, contabo seed 65).
    const results = await Promise.allSettled([
      links.link("user", "u1", "c1", "adopted"),
      links.link("user", "u3", "c1", "adopted"),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(TargetClaimedError);
    expect(refused.reason.retryable).toBe(true);
    const holder = await links.holderOf("user", "c1");
    const loser = holder === "u1" ? "u3" : "u1";
    expect((await links.get("user", loser)).targetId).toBeUndefined();
    expect(refused.reason.holder).toBe(holder);
  });

  it("links after the holder let go (a take-over unlinks the old holder first)", async () => {
    const links = new TargetLinks(conn, "cloudflare", { prefix: "l3" });
    await links.link("user", "old", "m1", "created");
    await links.unlink("user", "old", "m1");
    await links.link("user", "new", "m1", "created");
    expect(await links.holderOf("user", "m1")).toBe("new");
  });
});

describe("TargetLinks.unlink()", () => {
  it("leaves alone what another IdP entity holds now, and a link that names another object", async () => {
    const links = new TargetLinks(conn, "cloudflare", { prefix: "l4" });
    await links.link("group", "old", "g1", "created");
    // The object passed on; a job of the old holder that read its link before then ends late.
    await links.unlink("group", "old", "g1");
    await links.link("group", "new", "g1", "created");
    await links.link("group", "old", "g2", "created");
    await links.unlink("group", "old", "g1");
    expect(await links.holderOf("group", "g1")).toBe("new");
    expect(await links.get("group", "old")).toMatchObject({ targetId: "g2", origin: "created" });
    expect(await links.holderOf("group", "g2")).toBe("old");
    await links.unlink("group", "old", "g2");
    expect((await links.get("group", "old")).targetId).toBeUndefined();
    expect(await links.holderOf("group", "g2")).toBeUndefined();
  });
});

describe("TargetLinks.whileHolding() and handOver()", () => {
  it("writes only while the IdP entity holds the object, which is not handed over meanwhile", async () => {
    const links = new TargetLinks(conn, "contabo", { prefix: "l5" });
    await links.link("user", "old", "c1", "created");
    let handedOver: boolean | undefined;
    let second: boolean | undefined;
    let handedOverAfterSecond: boolean | undefined;
    const wrote = await links.whileHolding("user", "old", "c1", async () => {
      // A take-over while this write is under way waits. A second write of the same holder
      // proceeds (the lease is shared, src/targets/write_lease.ts), and once it let go the
      // first still holds the account.
      handedOver = await links.handOver("user", "old", "c1");
      second = await links.whileHolding("user", "old", "c1", async () => {});
      handedOverAfterSecond = await links.handOver("user", "old", "c1");
    });
    expect(wrote).toBe(true);
    expect(handedOver).toBe(false);
    expect(second).toBe(true);
    expect(handedOverAfterSecond).toBe(false);
    expect(await links.holderOf("user", "c1")).toBe("old");

    // Once the write let go, the hand-over goes through; the old holder writes no more.
    expect(await links.handOver("user", "old", "c1")).toBe(true);
    await links.link("user", "new", "c1", "created");
    let called = false;
    expect(await links.whileHolding("user", "old", "c1", () => Promise.resolve(called = true)))
      .toBe(false);
    expect(called).toBe(false);
    expect((await links.get("user", "old")).targetId).toBeUndefined();
    expect(await links.whileHolding("user", "new", "c1", async () => {})).toBe(true);
  });

  it("lets go of the lease when the write fails", async () => {
    const links = new TargetLinks(conn, "contabo", { prefix: "l6" });
    await links.link("user", "a", "c2", "adopted");
    const failed = await links.whileHolding("user", "a", "c2", () => Promise.reject(new Error("x")))
      .catch((e) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(await links.handOver("user", "a", "c2")).toBe(true);
  });

  it("lets a dead worker's lease lapse at its deadline", async () => {
    const links = new TargetLinks(conn, "contabo", { prefix: "l7" });
    await links.link("user", "a", "c3", "adopted");
    const lease = storeKeys("l7").target("contabo").writing("user", "c3");
    const [seconds] = await conn.time();
    // A token left by a worker that died mid-write: held until its deadline, not after.
    await conn.zadd(lease, Number(seconds) * 1000 + 60_000, "alive");
    expect(await links.handOver("user", "a", "c3")).toBe(false);
    await conn.zadd(lease, Number(seconds) * 1000 - 1, "alive");
    expect(await links.handOver("user", "a", "c3")).toBe(true);
  });
});
