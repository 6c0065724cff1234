/**
 * An IONOS user that passes from an IdP user deleted at the IdP (account kept, deactivated) to
 * the person re-created under a new id (`takeOverFromDeletedOwner` in workers/sync_user.ts)
 * while a job that read it for the old user is still running. Each race is made deterministic
 * by running one job inside another's read (real Redis, the IONOS simulator over HTTP):
 * - a later job of the deleted user (a repeated delete, a reconcile ask) that read its record
 *   before the take-over does not deactivate the account after the new owner's job enabled it;
 * - a job that read the old user alive and an administrator (a second run of it at once, as
 *   BullMQ gives when a stalled job is run again) writes no `administrator` to it after;
 * - a group job that planned the old user as a member does not add the account taken over to
 *   the group (a grant to a person the IdP put in no group);
 * - the new owner plans from the account once the old user's writes are DONE.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMapping } from "../../src/config/mapping.ts";
import { parseEventBatch } from "../../src/events/event.ts";
import { silentLogger } from "../../src/log.ts";
import { createSyncQueue } from "../../src/queue/sync_queue.ts";
import { OwnerBindings } from "../../src/store/owner_bindings.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { IonosClient } from "../../src/targets/ionos/client.ts";
import { IonosRecords } from "../../src/targets/ionos/records.ts";
import {
  type RunningSimulator,
  startIonosSimulator,
} from "../../src/targets/ionos/simulator/mod.ts";
import type { SyncContext } from "../../workers/context.ts";
import { syncGroup } from "../../workers/sync_group.ts";
import { syncUser } from "../../workers/sync_user.ts";
import { userEvent } from "../_support/harness.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
let conn: Redis;
let ionos: RunningSimulator;
const queues: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  ionos = await startIonosSimulator();
}, 30_000);
afterAll(async () => {
  await Promise.all(queues.map((q) => q.close()));
  conn?.disconnect();
  await ionos?.close();
  await redis?.stop();
});

/**
 * A sync context on `prefix` with a client and records of its own (so one job's calls can be
 * hooked). A deleted IdP user's account is kept, deactivated; `<prefix>-admins` makes admins.
 */
function context(prefix: string): SyncContext & { ionos: IonosClient; records: IonosRecords } {
  const queue = createSyncQueue(conn, { prefix: `bull-${prefix}` });
  queues.push(queue);
  return {
    store: new WantedStateStore(conn, { prefix }),
    records: new IonosRecords(conn, { prefix }),
    emailOwners: new OwnerBindings(conn, { kind: "email", prefix }),
    groupNameOwners: new OwnerBindings(conn, { kind: "group-name", prefix }),
    mapping: parseMapping(JSON.stringify({
      onUserDeleted: "deactivate",
      administrators: [`${prefix}-admins`],
    })),
    ionos: new IonosClient({
      baseUrl: ionos.url,
      auth: { token: "sim-token" },
      baseDelayMs: 1,
      requestPollIntervalMs: 5,
    }),
    queue,
    logger: silentLogger,
  };
}
type Ctx = ReturnType<typeof context>;

async function apply(ctx: Ctx, body: unknown) {
  const parsed = parseEventBatch(body);
  if (!parsed.success) throw new Error("bad test event");
  await ctx.store.applyEvents(parsed.events);
}
const deleted = (id: string) => ({ id: crypto.randomUUID(), type: "user.deleted", data: { id } });
const groupCreated = (id: string, displayName: string, members: string[]) => ({
  id: crypto.randomUUID(),
  type: "group.created",
  data: { id, displayName, members: members.map((value) => ({ value })) },
});
const user = (id: string) => ionos.sim.state.users().find((u) => u.id === id)!;

/** Runs `during` right after `target`'s next `method` call answered, once. */
function after<T extends object>(target: T, method: keyof T, during: () => Promise<unknown>) {
  const real = (target[method] as (...a: unknown[]) => Promise<unknown>).bind(target);
  (target as Record<keyof T, unknown>)[method] = async (...args: unknown[]) => {
    const answer = await real(...args);
    (target as Record<keyof T, unknown>)[method] = real;
    await during();
    return answer;
  };
}

/** u-old synced (its IONOS user made), then deleted at the IdP and removed (deactivated). */
async function removed(old: Ctx, email: string) {
  await apply(old, userEvent("user.created", "u-old", email));
  await syncUser(old, "u-old");
  const ionosId = (await old.records.get("user", "u-old"))!.ionosId!;
  expect(user(ionosId).properties.active).toBe(true);
  await apply(old, deleted("u-old"));
  await syncUser(old, "u-old");
  expect(user(ionosId).properties.active).toBe(false);
  return ionosId;
}

describe("IONOS take-over from a deleted IdP user, under races", () => {
  it("a later job of the deleted user does not deactivate the account taken over since", async () => {
    const old = context("dis");
    const other = context("dis");
    const ionosId = await removed(old, "dis.ada@example.com");
    await apply(old, userEvent("user.created", "u-new", "dis.ada@example.com"));

    // Another job of u-old (the delete delivered again, say) reads its record; u-new's job
    // takes the account over and enables it right then.
    after(old.records, "get", () => syncUser(other, "u-new"));
    await syncUser(old, "u-old");

    // Deactivated by the old job, the new owner would stay so: its own job had run already.
    expect(await old.records.ownerOf("user", ionosId)).toBe("u-new");
    expect(user(ionosId).properties.active).toBe(true);
  });

  it("a job that read its user alive and an administrator grants nothing after a take-over", async () => {
    const old = context("grt");
    const second = context("grt");
    const other = context("grt");
    await apply(old, userEvent("user.created", "u-old", "grt.ada@example.com"));
    await syncUser(old, "u-old");
    const ionosId = (await old.records.get("user", "u-old"))!.ionosId!;
    // u-old joins the admins: its next job makes it an administrator.
    await apply(old, groupCreated("g-adm", "grt-admins", ["u-old"]));

    // Right after that job read the account, the IdP deletes u-old; a second run of u-old's
    // job removes it, and the person re-created as u-new, in no group, takes it over.
    after(old.ionos, "getUser", async () => {
      await apply(old, deleted("u-old"));
      await syncUser(second, "u-old");
      await apply(old, userEvent("user.created", "u-new", "grt.ada@example.com"));
      await syncUser(other, "u-new");
    });
    await syncUser(old, "u-old").catch(() => {});

    expect(await old.records.ownerOf("user", ionosId)).toBe("u-new");
    expect(user(ionosId).properties.administrator).toBe(false);
    expect(user(ionosId).properties.active).toBe(true);
  });

  it("a group job that planned the deleted user as a member does not add the account taken over", async () => {
    const old = context("grp");
    const other = context("grp");
    await apply(old, userEvent("user.created", "u-old", "grp.ada@example.com"));
    await syncUser(old, "u-old");
    const ionosId = (await old.records.get("user", "u-old"))!.ionosId!;
    // The group is made in IONOS first, without members, so the next group job only adds.
    await apply(old, groupCreated("g-ops", "grp-ops", []));
    await syncGroup(old, "g-ops");
    const groupId = (await old.records.get("group", "g-ops"))!.ionosId!;
    await apply(old, groupCreated("g-ops", "grp-ops", ["u-old"]));

    // The group job plans u-old's account as a member; before it adds it, the IdP deletes
    // u-old, its job removes it, and the person re-created as u-new (in no group) takes it over.
    after(old.ionos, "listGroupMembers", async () => {
      await apply(old, deleted("u-old"));
      await syncUser(other, "u-old");
      await apply(old, userEvent("user.created", "u-new", "grp.ada@example.com"));
      await syncUser(other, "u-new");
    });
    await syncGroup(old, "g-ops").catch(() => {});

    expect(await old.records.ownerOf("user", ionosId)).toBe("u-new");
    const members = ionos.sim.state.members(groupId);
    expect(members).not.toContain(ionosId);
  });
});

describe("IonosRecords.whileHolding() and handOver()", () => {
  it("keeps a take-over waiting until the holder's write has landed, then writes no more", async () => {
    const records = new IonosRecords(conn, { prefix: "lease" });
    await records.set("user", "old", { ionosId: "i-1", origin: "created" });
    let landed!: () => void;
    const wrote = await records.whileHolding(
      "old",
      "i-1",
      () => Promise.resolve({ value: 1, landed: new Promise<void>((r) => landed = r) }),
    );
    expect(wrote).toEqual({ held: true, value: 1 });
    // Accepted (202) but not DONE: the account does not pass on yet; the holder may still write.
    expect(await records.handOver("old", "i-1")).toBe(false);
    expect((await records.whileHolding("old", "i-1", () => Promise.resolve({ value: 2 }))).held)
      .toBe(true);
    landed();
    await new Promise((r) => setTimeout(r, 50));
    expect(await records.handOver("old", "i-1")).toBe(true);
    expect(await records.get("user", "old")).toBeUndefined();
    // Passed on: the old holder neither writes nor links it back.
    let called = false;
    const late = await records.whileHolding(
      "old",
      "i-1",
      () => Promise.resolve({ value: called = true }),
    );
    expect(late.held).toBe(false);
    expect(called).toBe(false);
    expect(await records.set("user", "new", { ionosId: "i-1", origin: "created" })).toBe(true);
    expect(await records.set("user", "old", { ionosId: "i-1", state: "synced" })).toBe(false);
    expect(await records.ownerOf("user", "i-1")).toBe("new");
    expect(await records.get("user", "old")).toBeUndefined();
  });

  it("lets go of the lease when the write fails", async () => {
    const records = new IonosRecords(conn, { prefix: "lease2" });
    await records.set("user", "a", { ionosId: "i-2", origin: "adopted" });
    const failed = await records.whileHolding("a", "i-2", () => Promise.reject(new Error("x")))
      .catch((e) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(await records.handOver("a", "i-2")).toBe(true);
  });
});
