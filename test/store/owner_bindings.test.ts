import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { OwnerBindings } from "../../src/store/owner_bindings.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
let client: Redis;
let emails: OwnerBindings;
beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
});
afterAll(async () => await redis.stop());
beforeEach(async () => {
  await client.flushall();
  emails = new OwnerBindings(client, { kind: "email" });
});

// Runs under the key guard (test/store/lua_keys.test.ts): the release learns which waiters
// keys it needs from a first call that writes nothing.
describe("OwnerBindings.releaseAllBut()", () => {
  it("releases every value but those kept, and returns who waited for them", async () => {
    expect(await emails.claim("ada@example.com", "u1")).toEqual({ held: true });
    expect(await emails.claim("ada@old.example", "u1")).toEqual({ held: true });
    expect(await emails.claim("ada@old.example", "u2")).toEqual({ held: false, owner: "u1" });

    expect(await emails.releaseAllBut("u1", ["ada@example.com"])).toEqual(["u2"]);
    expect(await emails.ownerOf("ada@example.com")).toBe("u1");
    expect(await emails.ownerOf("ada@old.example")).toBeUndefined();
    expect(await client.exists(emails.keys.waiters("email", "ada@old.example"))).toBe(0);
    expect(await client.smembers(emails.keys.held("email", "u1"))).toEqual(["ada@example.com"]);
    expect(await emails.claim("ada@old.example", "u2")).toEqual({ held: true });
  });

  it("returns nothing when everything held is kept", async () => {
    await emails.claim("ada@example.com", "u1");
    expect(await emails.releaseAllBut("u1", ["ada@example.com"])).toEqual([]);
    expect(await emails.ownerOf("ada@example.com")).toBe("u1");
  });

  it("drops from the held set a value another entity owns now, leaving its owner", async () => {
    await emails.claim("shared@example.com", "u1");
    // As after a takeover by an operator: the hash names u2, u1's held set still lists it.
    await client.hset(emails.keys.owners("email"), "shared@example.com", "u2");
    expect(await emails.releaseAllBut("u1")).toEqual([]);
    expect(await emails.ownerOf("shared@example.com")).toBe("u2");
    expect(await client.exists(emails.keys.held("email", "u1"))).toBe(0);
  });
});
