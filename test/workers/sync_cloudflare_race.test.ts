/**
 * Cloudflare jobs that race each other (model test, cloudflare seeds 339 and 389, timing
 * dependent there; made deterministic here by running one job inside another's read):
 * - an unmanaged pending invitation with the user's email is adopted, not left unlinked;
 * - what a deleted IdP entity holds is left to its own job's removal, not taken over while
 *   that job may be removing it;
 * - a user group deleted since the job read it is waited on and re-planned, not a failure for
 *   good; a member removed between its look-up and its link is not linked.
 */
import { describe, expect, it } from "vitest";
import { SyncConflictError, WaitingForDependencyError } from "../../workers/errors.ts";
import { classifyFailure } from "../../workers/failure_policy.ts";
import {
  type CloudflareSyncContext,
  syncCloudflareGroup,
  syncCloudflareUser,
} from "../../workers/sync_cloudflare.ts";
import { CF_MEMBER_ROLE } from "../_support/targets.ts";
import { userEvent } from "../_support/harness.ts";
import {
  afterNextCall,
  applyEvents as apply,
  cloudflareJobsForFile,
} from "../_support/target_jobs.ts";

const cf = cloudflareJobsForFile();

/** A sync context on `prefix` with a client of its own (so one job's calls can be hooked). */
function context(prefix: string): CloudflareSyncContext {
  return cf.context(prefix, {
    targets: ["ionos", "cloudflare"],
    adopt: { users: "all" },
    cloudflare: { memberRoles: [CF_MEMBER_ROLE], groups: { include: [`${prefix}-*`] } },
  });
}
/** Two jobs' contexts on one prefix: the old IdP entity's, and its re-created successor's. */
const pair = (prefix: string) => [context(prefix), context(prefix)] as const;

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

/**
 * `type`'s IdP entity `oldId` synced (its Cloudflare object made), then deleted at the IdP and
 * the same one (`created`) re-created as `newId`. Returns the object `oldId`'s job made.
 */
async function recreated(
  old: CloudflareSyncContext,
  type: "user" | "group",
  [oldId, newId]: [string, string],
  created: (id: string) => unknown,
): Promise<string> {
  await apply(old.store, created(oldId));
  await (type === "user" ? syncCloudflareUser : syncCloudflareGroup)(old, oldId);
  const targetId = (await old.links.get(type, oldId)).targetId!;
  await apply(old.store, deleted(type, oldId));
  await apply(old.store, created(newId));
  return targetId;
}

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
    const [old, other] = pair("mem");
    // The IdP deletes u-old and re-creates the person as u-new.
    const memberId = await recreated(
      old,
      "user",
      ["u-old", "u-new"],
      (id) => userEvent("user.created", id, "mem.ada@example.com"),
    );

    // u-old's job reads its member; u-new's job runs right then.
    let during: unknown;
    afterNextCall(old.client, "getMember", async () => {
      during = await syncCloudflareUser(other, "u-new").catch((e) => e);
    });
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
    const [old, other] = pair("grp");
    const groupId = await recreated(
      old,
      "group",
      ["g-old", "g-new"],
      (id) => groupCreated(id, "grp-admins"),
    );

    let during: unknown;
    afterNextCall(old.client, "getUserGroup", async () => {
      during = await syncCloudflareGroup(other, "g-new").catch((e) => e);
    });
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
    afterNextCall(ctx.client, "getUserGroup", (id) => cf.sim.userGroups.delete(id));
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
    afterNextCall(ctx.client, "findMemberByEmail", () => cf.sim.members.delete(hand.id));
    const error = await syncCloudflareUser(ctx, "u-l").catch((e) => e);
    expect(error).toBeInstanceOf(WaitingForDependencyError);
    expect((await ctx.links.get("user", "u-l")).targetId).toBeUndefined();
    expect(await ctx.links.holderOf("user", hand.id)).toBeUndefined();

    await syncCloudflareUser(ctx, "u-l");
    const link = await ctx.links.get("user", "u-l");
    expect(cf.sim.members.get(link.targetId!)?.email).toBe("look.lin@example.com");
  });
});
