import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type { SyncEvent } from "../../src/events/event.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
let client: Redis;
let store: WantedStateStore;
beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
});
afterAll(async () => await redis.stop());
beforeEach(async () => {
  await client.flushall();
  store = new WantedStateStore(client);
});

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
let n = 0;
const user = (type: string, id: string, s: number, extra = {}): SyncEvent =>
  ({
    id: `e${++n}`,
    type,
    time: t(s),
    data: { id, userName: `${id}@example.com`, ...extra },
  }) as SyncEvent;
const members = (type: string, groupId: string, s: number, ...ids: string[]): SyncEvent =>
  ({
    id: `e${++n}`,
    type,
    time: t(s),
    data: { groupId, members: ids.map((value) => ({ value })) },
  }) as SyncEvent;
const group = (type: string, id: string, s: number, memberIds?: string[]): SyncEvent =>
  ({
    id: `e${++n}`,
    type,
    time: t(s),
    data: {
      id,
      displayName: `group ${id}`,
      ...(memberIds ? { members: memberIds.map((value) => ({ value })) } : {}),
    },
  }) as SyncEvent;

describe("WantedStateStore.applyEvents()", () => {
  it("keeps the newest change whatever the order of arrival", async () => {
    await store.applyEvents([user("user.updated", "u", 5, { name: { givenName: "new" } })]);
    await store.applyEvents([user("user.created", "u", 1, { name: { givenName: "old" } })]);
    expect((await store.getUser("u"))?.firstName).toBe("new");
  });

  it.each([
    ["user.deactivated", false],
    ["user.reactivated", true],
  ])("%s sets active to %s", async (type, active) => {
    await store.applyEvents([user("user.created", "u", 1), user(type, "u", 2)]);
    expect((await store.getUser("u"))?.active).toBe(active);
  });

  it("keeps active as it was when an update does not say", async () => {
    await store.applyEvents([user("user.deactivated", "u", 1), user("user.updated", "u", 2)]);
    expect((await store.getUser("u"))?.active).toBe(false);
  });

  it("keeps a tombstone so an older update cannot bring a deleted user back", async () => {
    await store.applyEvents([{ id: "d", type: "user.deleted", time: t(5), data: { id: "u" } }]);
    await store.applyEvents([user("user.updated", "u", 3)]);
    expect((await store.getUser("u"))?.deleted).toBe(true);
    await store.applyEvents([user("user.created", "u", 9)]);
    expect((await store.getUser("u"))?.deleted).toBe(false);
  });

  it("takes a deleted user out of its groups and touches those groups", async () => {
    await store.applyEvents([group("group.created", "g", 1, ["a", "b"])]);
    const r = await store.applyEvents([
      { id: "del-a", type: "user.deleted", time: t(2), data: { id: "a" } } as SyncEvent,
    ]);
    expect(r.entities).toEqual(["user:a", "group:g"]);
    expect(await store.getMembers("g")).toEqual(["b"]);
    expect(await store.getUserGroups("a")).toEqual([]);
    // An older membership event cannot put the deleted user back.
    await store.applyEvents([members("group.members.added", "g", 1, "a")]);
    expect(await store.getMembers("g")).toEqual(["b"]);
  });

  it("orders each membership on its own", async () => {
    await store.applyEvents([
      members("group.members.removed", "g", 5, "a"),
      members("group.members.added", "g", 3, "a", "b"),
    ]);
    expect((await store.getMembers("g")).sort()).toEqual(["b"]);
    expect(await store.getUserGroups("b")).toEqual(["g"]);
    expect(await store.getUserGroups("a")).toEqual([]);
  });

  it("treats a group's member list as the full list at its time", async () => {
    await store.applyEvents([group("group.created", "g", 1, ["a", "b"])]);
    await store.applyEvents([members("group.members.added", "g", 9, "c")]);
    await store.applyEvents([group("group.updated", "g", 5, ["a"])]);
    // b removed by the list at t=5; c was added later (t=9) and stays.
    expect((await store.getMembers("g")).sort()).toEqual(["a", "c"]);
  });

  it("leaves members alone when a group update has no member list", async () => {
    await store.applyEvents([
      group("group.created", "g", 1, ["a"]),
      group("group.updated", "g", 2),
    ]);
    expect(await store.getMembers("g")).toEqual(["a"]);
  });

  it("counts duplicates by event id and by delivery id", async () => {
    const e = user("user.created", "u", 1);
    expect(await store.applyEvents([e, e])).toMatchObject({ accepted: 1, duplicates: 1 });
    const f = user("user.created", "v", 1);
    expect(await store.applyEvents([f], { deliveryId: "d1" })).toMatchObject({ accepted: 1 });
    const g = user("user.created", "w", 1);
    expect(await store.applyEvents([g], { deliveryId: "d1" })).toMatchObject({
      accepted: 0,
      duplicates: 1,
    });
    expect(await store.getUser("w")).toBeUndefined();
  });

  it("reports the touched entities and keeps them in the outbox until cleared", async () => {
    const r = await store.applyEvents([
      user("user.created", "u", 1),
      group("group.created", "g", 1),
    ]);
    expect(r.entities).toEqual(["user:u", "group:g"]);
    expect((await store.pendingOutbox(-1000)).entities.sort()).toEqual(["group:g", "user:u"]);
    await store.clearOutbox(r.entities, r.stamp);
    expect((await store.pendingOutbox(-1000)).entities).toEqual([]);
  });

  it("does not clear an outbox entry that a newer change put back", async () => {
    const first = await store.applyEvents([user("user.created", "u", 1)]);
    await new Promise((r) => setTimeout(r, 5));
    await store.applyEvents([user("user.updated", "u", 2)]);
    await store.clearOutbox(first.entities, first.stamp);
    expect((await store.pendingOutbox(-1000)).entities).toEqual(["user:u"]);
  });
});

describe("WantedStateStore.applyEvents(): relations end with their entity", () => {
  const memberIds = async (gid: string) => (await store.getMembers(gid)).sort();
  const del = (kind: "user" | "group", id: string, s: number): SyncEvent =>
    ({ id: `e${++n}`, type: `${kind}.deleted`, time: t(s), data: { id } }) as SyncEvent;

  it("a group re-created with the same id has only the members sent after its delete", async () => {
    await store.applyEvents([group("group.created", "g", 1, ["a", "b"])]);
    await store.applyEvents([del("group", "g", 2), group("group.created", "g", 3)]);
    expect(await memberIds("g")).toEqual([]);
    await store.applyEvents([members("group.members.added", "g", 4, "c")]);
    expect(await memberIds("g")).toEqual(["c"]);
    expect(await store.getUserGroups("a")).toEqual([]);
  });

  it("ignores a membership change older than the group's delete that arrives after it", async () => {
    await store.applyEvents([group("group.created", "g", 1), del("group", "g", 5)]);
    await store.applyEvents([members("group.members.added", "g", 3, "late")]);
    expect(await memberIds("g")).toEqual([]);
  });

  it("ends memberships older than a delete that arrives after the group's re-creation", async () => {
    await store.applyEvents([
      group("group.created", "g", 1, ["old"]),
      group("group.created", "g", 10),
    ]);
    await store.applyEvents([del("group", "g", 5)]);
    expect(await memberIds("g")).toEqual([]);
    expect((await store.getGroup("g"))?.deleted).toBe(false);
  });

  it("ignores a membership change older than the user's delete, whenever it arrives", async () => {
    await store.applyEvents([user("user.created", "u", 1), del("user", "u", 5)]);
    await store.applyEvents([members("group.members.added", "g", 3, "u")]);
    expect(await memberIds("g")).toEqual([]);
    await store.applyEvents([
      user("user.created", "u", 6),
      members("group.members.added", "g", 7, "u"),
    ]);
    expect(await memberIds("g")).toEqual(["u"]);
  });

  it("ignores an add older than a full member list that arrives after it", async () => {
    await store.applyEvents([group("group.updated", "g", 5, ["a"])]);
    await store.applyEvents([members("group.members.added", "g", 3, "b")]);
    expect(await memberIds("g")).toEqual(["a"]);
  });

  it("reaches the same memberships in every order of arrival", async () => {
    const history = () => [
      group("group.created", "g", 1, ["a", "b"]),
      members("group.members.added", "g", 2, "c"),
      del("user", "b", 3),
      del("group", "g", 4),
      members("group.members.added", "g", 5, "d"),
      group("group.updated", "g", 6, ["d", "e"]),
      members("group.members.removed", "g", 7, "e"),
      members("group.members.added", "g", 8, "a"),
    ];
    const expected = ["a", "d"];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 25; round++) {
      await client.flushall();
      const events = history().sort(() => rand() - 0.5);
      for (const e of events) await store.applyEvents([e]);
      expect(await memberIds("g"), `order ${events.map((e) => e.time).join(",")}`)
        .toEqual(expected);
    }
  });
});

describe("WantedStateStore.applyEvents(): time is bounded", () => {
  it("applies a time far ahead of Redis' clock at that clock, so later changes still win", async () => {
    const future = { ...user("user.deactivated", "u", 0), time: "2099-01-01T00:00:00Z" };
    const r = await store.applyEvents([future as SyncEvent]);
    expect(r.clamped).toBe(1);
    const stored = await store.getUser("u");
    expect(stored!.t).toBeLessThanOrEqual(Date.now() + 1000);
    await new Promise((res) => setTimeout(res, 5));
    const now = { ...user("user.reactivated", "u", 0), time: new Date().toISOString() };
    expect((await store.applyEvents([now as SyncEvent])).clamped).toBe(0);
    expect((await store.getUser("u"))?.active).toBe(true);
  });

  it("keeps a time within the allowed skew", async () => {
    const skewed = new WantedStateStore(client, { maxClockSkewMs: 60_000 });
    const soon = new Date(Date.now() + 30_000).toISOString();
    const r = await skewed.applyEvents([
      { ...user("user.created", "u", 0), time: soon } as SyncEvent,
    ]);
    expect(r.clamped).toBe(0);
    expect((await skewed.getUser("u"))?.t).toBe(Date.parse(soon));
  });

  it("refuses a negative skew when constructed", () => {
    expect(() => new WantedStateStore(client, { maxClockSkewMs: -1 })).toThrow(
      /'maxClockSkewMs' must be >= 0: current value is -1/,
    );
  });
});

describe("WantedStateStore.applyEvents(): renames", () => {
  it("a renamed group touches its present members, whose administrator flag may change", async () => {
    await store.applyEvents([
      group("group.created", "g", 1, ["a", "b"]),
      members("group.members.removed", "g", 2, "b"),
    ]);
    const renamed = {
      ...group("group.updated", "g", 3),
      data: { id: "g", displayName: "renamed" },
    } as SyncEvent;
    const r = await store.applyEvents([renamed]);
    expect(r.entities.sort()).toEqual(["group:g", "user:a"]);
    const same = await store.applyEvents([
      { ...renamed, id: `e${++n}`, time: t(4) } as SyncEvent,
    ]);
    expect(same.entities).toEqual(["group:g"]);
  });
});

describe("WantedStateStore.applyEvents(): administrators groups", () => {
  it("a membership that flips in an administrators group also touches its user", async () => {
    const admins = new WantedStateStore(client, { administrators: ["ionos-admin?", "Ops.*"] });
    const named = (id: string, name: string, s: number, ids: string[]): SyncEvent =>
      ({
        id: `e${++n}`,
        type: "group.created",
        time: t(s),
        data: { id, displayName: name, members: ids.map((value) => ({ value })) },
      }) as SyncEvent;
    const a = await admins.applyEvents([named("ga", "IONOS-ADMINS", 1, ["u1"])]);
    expect(a.entities.sort()).toEqual(["group:ga", "user:u1"]);
    const plain = await admins.applyEvents([named("gp", "ionos-dev", 1, ["u1"])]);
    expect(plain.entities).toEqual(["group:gp"]);
    const dotted = await admins.applyEvents([named("gd", "ops.team", 1, ["u2"])]);
    expect(dotted.entities.sort()).toEqual(["group:gd", "user:u2"]);
    const literalDot = await admins.applyEvents([named("gx", "opsXteam", 1, ["u3"])]);
    // "." is literal in a glob: "Ops.*" does not match "opsXteam".
    expect(literalDot.entities).toEqual(["group:gx"]);
    const del = await admins.applyEvents([
      { id: `e${++n}`, type: "group.deleted", time: t(2), data: { id: "ga" } } as SyncEvent,
    ]);
    expect(del.entities.sort()).toEqual(["group:ga", "user:u1"]);
  });
});

// The script gets every key in KEYS (src/store/apply_keys.ts); ids only Redis knows cost a call
// that writes nothing. The key guard of the tests fails any key the script was not given.
describe("WantedStateStore.applyEvents(): keys in KEYS", () => {
  const del = (kind: "user" | "group", id: string, s: number): SyncEvent =>
    ({ id: `e${++n}`, type: `${kind}.deleted`, time: t(s), data: { id } }) as SyncEvent;
  /** Script calls (EVAL and EVALSHA) Redis ran during `fn`. */
  async function scriptCalls(fn: () => Promise<unknown>): Promise<number> {
    const count = async () => {
      const info = await client.info("commandstats");
      return [...info.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)]
        .reduce((sum, m) => sum + Number(m[1]), 0);
    };
    const before = await count();
    await fn();
    return await count() - before;
  }

  it("takes one call when the events name every key, as an upsert or a repeated member list", async () => {
    await store.applyEvents([group("group.created", "g", 1, ["a", "b"])]);
    expect(await scriptCalls(() => store.applyEvents([user("user.created", "a", 2)]))).toBe(1);
    expect(
      await scriptCalls(() => store.applyEvents([group("group.updated", "g", 3, ["a", "b"])])),
    ).toBe(1);
    expect(
      await scriptCalls(() => store.applyEvents([members("group.members.added", "g", 4, "c")])),
    ).toBe(1);
  });

  it("takes a second call when a delete reaches relations only Redis knows, and ends them", async () => {
    await store.applyEvents([
      group("group.created", "g1", 1, ["a"]),
      group("group.created", "g2", 1, ["a", "b"]),
    ]);
    let result: Awaited<ReturnType<typeof store.applyEvents>> | undefined;
    const calls = await scriptCalls(async () => {
      result = await store.applyEvents([del("user", "a", 2)]);
    });
    expect(calls).toBe(2);
    expect(result?.entities.sort()).toEqual(["group:g1", "group:g2", "user:a"]);
    expect(await store.getUserGroups("a")).toEqual([]);
    expect(await scriptCalls(() => store.applyEvents([del("group", "g2", 3)]))).toBe(2);
    expect(await store.getMembers("g2")).toEqual([]);
    expect(await store.getUserGroups("b")).toEqual([]);
  });

  it("calls again while relations are added between its calls, and ends those too", async () => {
    await store.applyEvents([group("group.created", "g1", 1, ["a"])]);
    // A second writer adds `a` to another group (at a time before the delete) right after the
    // script's first answer, as a concurrent intake could.
    const other = new WantedStateStore(client);
    let injected = false;
    const interleaved = new Proxy(client, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (typeof prop === "string" && prop.startsWith("syncLua_")) {
          return async (...args: unknown[]) => {
            const reply = await value.apply(target, args);
            if (!injected && String(reply).includes('"need"')) {
              injected = true;
              await other.applyEvents([members("group.members.added", "g2", 2, "a")]);
            }
            return reply;
          };
        }
        return value.bind(target);
      },
    });
    const racing = new WantedStateStore(interleaved);
    let result: Awaited<ReturnType<typeof store.applyEvents>> | undefined;
    // Three calls (the first learns g1, the second g2, added meanwhile, the third applies) and
    // the other writer's one.
    const calls = await scriptCalls(async () => {
      result = await racing.applyEvents([del("user", "a", 3)]);
    });
    expect(calls).toBe(4);
    expect(injected).toBe(true);
    expect(result?.entities.sort()).toEqual(["group:g1", "group:g2", "user:a"]);
    expect(await store.getMembers("g1")).toEqual([]);
    expect(await store.getMembers("g2")).toEqual([]);
  });
});
