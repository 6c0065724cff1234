/**
 * Pins every Redis key name the service builds (src/store/keys.ts, and the rate limiters'
 * exception in src/targets/rate_limiter.ts). Data already stored lives under these strings: a
 * rename would orphan it (twins forgotten, so objects adopted again or never removed), so a
 * change here must come with a migration, not just an updated expectation.
 */
import { describe, expect, it } from "vitest";
import { storeKeys } from "../../src/store/keys.ts";
import { rateLimiterKey, targetRateLimiterKey } from "../../src/targets/rate_limiter.ts";

const k = storeKeys("sync");

/** [builder, key it builds]: one row per key of `StoreKeys`, nested ones by their path. */
const PINNED: [string, string, string][] = [
  ["user", k.user("u1"), "sync:user:u1"],
  ["group", k.group("g1"), "sync:group:g1"],
  ["members", k.members("g1"), "sync:members:g1"],
  ["userGroups", k.userGroups("u1"), "sync:user-groups:u1"],
  ["users", k.users, "sync:users"],
  ["groups", k.groups, "sync:groups"],
  ["memberFences", k.memberFences, "sync:member-fences"],
  ["seenEvent", k.seenEvent("e1"), "sync:seen:e1"],
  ["seenDelivery", k.seenDelivery("d1"), "sync:seen-delivery:d1"],
  ["outbox", k.outbox, "sync:outbox"],
  ["outboxAddMark", k.outboxAddMark, "sync:outbox:add-mark"],
  ["ionosUser", k.ionosUser("u1"), "sync:ionos:user:u1"],
  ["ionosGroup", k.ionosGroup("g1"), "sync:ionos:group:g1"],
  ["managedUsers", k.managedUsers, "sync:managed:users"],
  ["managedGroups", k.managedGroups, "sync:managed:groups"],
  ["ionosWriting", k.ionosWriting("u-7"), "sync:ionos:writing:user:u-7"],
  ["owners", k.owners("email"), "sync:owners:email"],
  ["held", k.held("group-name", "g1"), "sync:held:group-name:g1"],
  ["waiters", k.waiters("email", "a@x.example"), "sync:waiters:email:a@x.example"],
  ["eventLog", k.eventLog, "sync:eventlog"],
  ["eventLogById", k.eventLogById("e1"), "sync:eventlog:id:e1"],
  ["eventLogByEntity", k.eventLogByEntity("user:u1"), "sync:eventlog:entity:user:u1"],
  ["auditLog", k.auditLog, "sync:auditlog"],
  ["unknownEvents", k.unknownEvents, "sync:stats:unknown-events"],
  ["nudges", k.nudges, "sync:nudges"],
  ["activity", k.activity(1_767_225_600_000), "sync:console:activity:1767225600000"],
  ["consoleSession", k.consoleSession("h1"), "sync:console:session:h1"],
  ["scim.resource", k.scim.resource("User", "r1"), "sync:scim:res:User:r1"],
  ["scim.index", k.scim.index("Group"), "sync:scim:idx:Group"],
  ["scim.seq", k.scim.seq("User"), "sync:scim:seq:User"],
  ["scim.unique", k.scim.unique("User"), "sync:scim:uniq:User"],
  ["scim.lookup", k.scim.lookup("User"), "sync:scim:ix:User"],
  ["scim.lookupReady", k.scim.lookupReady("User"), "sync:scim:ixready:User"],
  ["scim.pending", k.scim.pending, "sync:scim:pending"],
  ["target.link", k.target("contabo").link("user", "u1"), "sync:target:contabo:user:u1"],
  [
    "target.managed",
    k.target("cloudflare").managed("group"),
    "sync:target:cloudflare:managed:group",
  ],
  [
    "target.writing",
    k.target("contabo").writing("user", "c-7"),
    "sync:target:contabo:writing:user:c-7",
  ],
];

describe("storeKeys()", () => {
  it.each(PINNED)("builds %s as before (%s)", (_, built, pinned) => {
    expect(built).toBe(pinned);
  });

  it("has a pinned row for every key it builds, so a new key gets pinned too", () => {
    const names = (obj: object, path = ""): string[] =>
      Object.entries(obj).flatMap(([name, v]) => {
        if (v !== null && typeof v === "object") return names(v, `${path}${name}.`);
        // `target(t)` returns builders of its own: pinned by their path.
        if (name === "target") return names(k.target("ionos"), "target.");
        return [`${path}${name}`];
      });
    expect(names(k).sort()).toEqual(PINNED.map(([name]) => name).sort());
  });

  it("puts every key under the prefix it is given", () => {
    const other = storeKeys("{sync}");
    expect(other.user("u1")).toBe("{sync}:user:u1");
    expect(other.scim.pending).toBe("{sync}:scim:pending");
    expect(other.target("ionos").managed("user")).toBe("{sync}:target:ionos:managed:user");
    expect(other.consoleSession("h")).toBe("{sync}:console:session:h");
  });
});

// The exception: shared rate limiter budgets live outside the prefix (see keys.ts's header). A
// renamed one only resets a budget, but would let two versions of the service overrun it.
describe("rate limiter keys", () => {
  it("builds the IONOS limiter's key from the URL and credential, as before", async () => {
    expect(await rateLimiterKey("https://api.ionos.com/cloudapi/v6/", { token: "t" })).toBe(
      "ionos:rl:97990a2549c60c6bc3381c063abc762ac135ed7ad32d5f111dcb8588b776ae18",
    );
    expect(
      await rateLimiterKey("https://api.ionos.com/cloudapi/v6", {
        username: "Ops@X.example",
        password: "p",
      }),
    ).toBe("ionos:rl:fd13683f623f8976ac3efc55ebbe238064a6488947f8e5fc04c99718144ee708");
  });

  it("builds another target's limiter key, as before", async () => {
    expect(await targetRateLimiterKey("contabo", "https://api.contabo.com\nops")).toBe(
      "contabo:rl:c63a0a085b04955f7ec28a9f5e91ab5db0dbfb2ef7d65452e9c83bb8c92c560f",
    );
  });
});
