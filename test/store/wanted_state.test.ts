import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type { SyncEvent } from "../../src/events/event.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { startRedis, type TestRedis } from "../helpers/redis.ts";

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
