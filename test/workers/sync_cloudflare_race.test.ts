/**
 * Cloudflare jobs that race each other (model test, cloudflare seeds 339 and 389, timing
 * dependent there; made deterministic here by running one job inside another's read):
 * - an unmanaged pending invitation with the user's email is adopted, not left unlinked;
 * - what a deleted IdP entity holds is left to its own job's removal, not taken over while
 *   that job may be removing it;
 * - a user group deleted since the job read it is waited on and re-planned, not a failure for
 *   good; a member removed between its look-up and its link is not linked.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMapping } from "../../src/config/mapping.ts";
import { parseEventBatch } from "../../src/events/event.ts";
import { silentLogger } from "../../src/log.ts";
import { createTargetQueue } from "../../src/queue/target_queue.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { CloudflareClient } from "../../src/targets/cloudflare/client.ts";
import {
  CLOUDFLARE_SIM_ACCOUNT,
  CLOUDFLARE_SIM_TOKEN,
} from "../../src/targets/cloudflare/simulator/app.ts";
import {
  type RunningCloudflareSimulator,
  startCloudflareSimulator,
} from "../../src/targets/cloudflare/simulator/server.ts";
import { TargetLinks } from "../../src/targets/links.ts";
import { SyncConflictError, WaitingForDependencyError } from "../../workers/errors.ts";
import { classifyFailure } from "../../workers/failure_policy.ts";
import { syncCloudflareGroup, syncCloudflareUser } from "../../workers/sync_cloudflare.ts";
import { CF_MEMBER_ROLE } from "../_support/targets.ts";
import { userEvent } from "../_support/harness.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
let conn: Redis;
let cf: RunningCloudflareSimulator;
const queues: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  cf = await startCloudflareSimulator();
}, 30_000);
afterAll(async () => {
  await Promise.all(queues.map((q) => q.close()));
  conn?.disconnect();
  await cf?.close();
  await redis?.stop();
});

/** A sync context on `prefix` with a client of its own (so one job's calls can be hooked). */
function context(prefix: string) {
  const client = new CloudflareClient({
    apiUrl: cf.url,
    apiToken: CLOUDFLARE_SIM_TOKEN,
    accountId: CLOUDFLARE_SIM_ACCOUNT,
    baseDelayMs: 1,
  });
  const queue = createTargetQueue(conn, "cloudflare", { prefix: `bull-${prefix}` });
  queues.push(queue);
  const mapping = parseMapping(JSON.stringify({
    targets: ["ionos", "cloudflare"],
    adopt: { users: "all" },
    cloudflare: { memberRoles: [CF_MEMBER_ROLE], groups: { include: [`${prefix}-*`] } },
  }));
  return {
    store: new WantedStateStore(conn, { prefix }),
    links: new TargetLinks(conn, "cloudflare", { prefix }),
    mapping,
    client,
    queue,
    logger: silentLogger,
  };
}

async function apply(store: WantedStateStore, body: unknown) {
  const parsed = parseEventBatch(body);
  if (!parsed.success) throw new Error("bad test event");
  await store.applyEvents(parsed.events);
}
const deleted = (type: "user" | "group", id: string) => ({
  id: crypto.randomUUID(),
  type: `${type}.deleted`,
  data: { id },
});
const groupCreated = (id: string, displayName: string, members: string[] = []) => ({
  id: crypto.randomUUID(),
  type: "group.created",
  data: { id, displayName, members: members.map((value) => ({ value })) },
});

describe("Cloudflare jobs under races", () => {
  it("adopts an unmanaged pending invitation with the user's email (seed 389)", async () => {
    const ctx = context("pend");
    await apply(ctx.store, userEvent("user.created", "u-a", "pend.shared@example.com"));
    await apply(ctx.store, userEvent("user.created", "u-b", "pend.shared@example.com"));
    // u-b's invitation went through but its answer was lost: a pending member nobody links yet.
    await ctx.links.markCreating("user", "u-b", "pend.shared@example.com");
    const invited = await ctx.client.inviteMember("pend.shared@example.com", [CF_MEMBER_ROLE]);
    expect(invited.status).toBe("pending");

    const outcome = await syncCloudflareUser(ctx, "u-a");
    // Left unlinked (and in no conflict), u-a would own no account once u-b's retry links it.
    expect((await ctx.links.get("user", "u-a")).targetId).toBe(invited.id);
    expect(outcome.result).toMatch(/invitation pending/);
    expect(await syncCloudflareUser(ctx, "u-b").catch((e) => e)).toBeInstanceOf(
      SyncConflictError,
    );
    expect(await ctx.links.holderOf("user", invited.id)).toBe("u-a");
  });

  it("a member of a deleted IdP user is not taken over while its job removes it", async () => {
    const old = context("mem");
    const other = context("mem");
    await apply(old.store, userEvent("user.created", "u-old", "mem.ada@example.com"));
    await syncCloudflareUser(old, "u-old");
    const memberId = (await old.links.get("user", "u-old")).targetId!;
    // The IdP deletes u-old and re-creates the person as u-new.
    await apply(old.store, deleted("user", "u-old"));
    await apply(old.store, userEvent("user.created", "u-new", "mem.ada@example.com"));

    // u-old's job reads its member; u-new's job runs right then.
    let during: unknown;
    const getMember = old.client.getMember.bind(old.client);
    old.client.getMember = async (id: string) => {
      const m = await getMember(id);
      old.client.getMember = getMember;
      during = await syncCloudflareUser(other, "u-new").catch((e) => e);
      return m;
    };
    await syncCloudflareUser(old, "u-old");
    expect(during).toBeInstanceOf(WaitingForDependencyError);
    expect(cf.sim.members.has(memberId)).toBe(false);

    // The retry, once u-old's job let go: u-new is invited anew and owns what it links.
    await syncCloudflareUser(other, "u-new");
    const link = await old.links.get("user", "u-new");
    expect(link.targetId).toBeTruthy();
    expect(cf.sim.members.has(link.targetId!)).toBe(true);
    expect(await old.links.holderOf("user", link.targetId!)).toBe("u-new");
  });

  it("a user group of a deleted IdP group is not taken over while its job deletes it (seed 339)", async () => {
    const old = context("grp");
    const other = context("grp");
    await apply(old.store, groupCreated("g-old", "grp-admins"));
    await syncCloudflareGroup(old, "g-old");
    const groupId = (await old.links.get("group", "g-old")).targetId!;
    await apply(old.store, deleted("group", "g-old"));
    await apply(old.store, groupCreated("g-new", "grp-admins"));

    let during: unknown;
    const getUserGroup = old.client.getUserGroup.bind(old.client);
    old.client.getUserGroup = async (id: string) => {
      const g = await getUserGroup(id);
      old.client.getUserGroup = getUserGroup;
      during = await syncCloudflareGroup(other, "g-new").catch((e) => e);
      return g;
    };
    await syncCloudflareGroup(old, "g-old");
    expect(during).toBeInstanceOf(WaitingForDependencyError);
    expect(cf.sim.userGroups.has(groupId)).toBe(false);

    await syncCloudflareGroup(other, "g-new");
    const link = await old.links.get("group", "g-new");
    expect(link.targetId).toBeTruthy();
    expect(cf.sim.userGroups.get(link.targetId!)?.name).toBe("grp-admins");
    expect(await old.links.holderOf("group", link.targetId!)).toBe("g-new");
  });

  it("a user group deleted since the job read it: waits and re-plans, no failure for good", async () => {
    const ctx = context("gone");
    await apply(ctx.store, userEvent("user.created", "u-g", "gone.grace@example.com"));
    await syncCloudflareUser(ctx, "u-g");
    await apply(ctx.store, groupCreated("g-gone", "gone-ops", ["u-g"]));
    await syncCloudflareGroup(ctx, "g-gone");
    const first = (await ctx.links.get("group", "g-gone")).targetId!;
    await apply(ctx.store, userEvent("user.created", "u-h", "gone.hopper@example.com"));
    await syncCloudflareUser(ctx, "u-h");
    await apply(ctx.store, {
      id: crypto.randomUUID(),
      type: "group.members.added",
      data: { groupId: "g-gone", members: [{ value: "u-h" }] },
    });

    // Deleted (by a person, or by another IdP group's job) right after this job read it.
    const getUserGroup = ctx.client.getUserGroup.bind(ctx.client);
    ctx.client.getUserGroup = async (id: string) => {
      const g = await getUserGroup(id);
      ctx.client.getUserGroup = getUserGroup;
      cf.sim.userGroups.delete(id);
      return g;
    };
    const error = await syncCloudflareGroup(ctx, "g-gone").catch((e) => e);
    expect(error).toBeInstanceOf(WaitingForDependencyError);
    expect(classifyFailure(error)).toBe("retry");

    await syncCloudflareGroup(ctx, "g-gone");
    const again = (await ctx.links.get("group", "g-gone")).targetId!;
    expect(again).not.toBe(first);
    expect(cf.sim.userGroups.get(again)?.members.size).toBe(2);
  });

  it("a member removed between its look-up and its link is not linked", async () => {
    const ctx = context("look");
    const hand = cf.sim.addMember("look.lin@example.com");
    await apply(ctx.store, userEvent("user.created", "u-l", "look.lin@example.com"));
    // Removed (by the job of the IdP user it was another's, or by a person) after the listing.
    const find = ctx.client.findMemberByEmail.bind(ctx.client);
    ctx.client.findMemberByEmail = async (email: string) => {
      const m = await find(email);
      ctx.client.findMemberByEmail = find;
      cf.sim.members.delete(hand.id);
      return m;
    };
    const error = await syncCloudflareUser(ctx, "u-l").catch((e) => e);
    expect(error).toBeInstanceOf(WaitingForDependencyError);
    expect((await ctx.links.get("user", "u-l")).targetId).toBeUndefined();
    expect(await ctx.links.holderOf("user", hand.id)).toBeUndefined();

    await syncCloudflareUser(ctx, "u-l");
    const link = await ctx.links.get("user", "u-l");
    expect(cf.sim.members.get(link.targetId!)?.email).toBe("look.lin@example.com");
  });
});
