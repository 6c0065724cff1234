/**
 * The Cloudflare sync steps: an IdP user -> an account member (invited, or removed: Cloudflare
 * cannot deactivate), an IdP group -> a user group with its mapped policies and its members.
 * What to do is `src/targets/cloudflare/decisions.ts`; this file only reads and calls.
 */
import { normalizeEmail } from "../src/config/mapping.ts";
import { enqueueTargetSyncs } from "../src/queue/target_queue.ts";
import { TargetApiError } from "../src/targets/errors.ts";
import type { CloudflareMember, CloudflareUserGroup } from "../src/targets/cloudflare/api.ts";
import type { CloudflareClient } from "../src/targets/cloudflare/client.ts";
import {
  cloudflareGroupAdopts,
  cloudflareGroupEligible,
  cloudflareMemberAdopts,
  desiredCloudflareGroup,
  planCloudflareGroup,
  planCloudflareMember,
  planCloudflareMembership,
  wantsCloudflareMember,
} from "../src/targets/cloudflare/decisions.ts";
import { SyncConflictError, WaitingForDependencyError } from "./errors.ts";
import {
  claimLostCreate,
  takeOverFound,
  takeOverFoundGroup,
  type TargetOutcome,
  type TargetSyncContext,
} from "./target_context.ts";

export type CloudflareSyncContext = TargetSyncContext<CloudflareClient>;

/** Brings one IdP user's account membership in step. @throws {SyncConflictError} */
export async function syncCloudflareUser(
  ctx: CloudflareSyncContext,
  idpId: string,
): Promise<TargetOutcome> {
  const { store, links, client, mapping } = ctx;
  const [wanted, link] = await Promise.all([store.getUser(idpId), links.get("user", idpId)]);
  let current: CloudflareMember | undefined;
  let origin = link.origin;
  if (link.targetId) {
    current = await client.getMember(link.targetId);
    if (!current) {
      await links.unlink("user", idpId, link.targetId);
      origin = undefined;
    }
  }
  let linked = false;
  /** Linked here from a listing: it may have been removed since (see stillThere). */
  let found = false;
  if (!current && link.creating) {
    // Our own invitation's answer was lost (a 5xx after the write, a killed worker).
    const lost = await client.findMemberByEmail(link.creating);
    current = await claimLostCreate(ctx, "user", idpId, lost, (m) => m.id);
    if (current) {
      origin = "created";
      linked = found = true;
    }
  }
  if (!current && wanted?.email && wantsCloudflareMember(wanted)) {
    current = await client.findMemberByEmail(wanted.email);
    origin = current
      ? await takeOverFound(ctx, idpId, current.id, current.email).catch(async (e) => {
        if (e instanceof SyncConflictError) {
          await links.record("user", idpId, { state: "conflict", result: "conflict" });
        }
        throw e;
      })
      : undefined;
    if (current && origin) {
      await links.link("user", idpId, current.id, origin);
      linked = found = true;
    }
  }
  const plan = planCloudflareMember({
    mapping,
    section: mapping.cloudflare,
    wanted,
    current,
    origin,
  });
  if (plan.conflict) {
    await links.record("user", idpId, { state: "conflict", result: "conflict" });
    throw new SyncConflictError(plan.conflict);
  }
  if (cloudflareMemberAdopts({ wanted, current, origin }, plan)) {
    await links.link("user", idpId, current!.id, "adopted");
    linked = found = true;
  }
  if (found && current) await stillThere(ctx, idpId, current.id);
  const done: string[] = [];
  let targetId = current?.id;
  let state = current?.status === "pending" ? "pending" : "ok";
  for (const change of plan.changes) {
    if (change.op === "invite") {
      const invited = await links.creating(
        "user",
        idpId,
        normalizeEmail(change.email),
        () => client.inviteMember(change.email, change.roleIds),
      ).catch(raced("a member with this email appeared since the look-up"));
      await links.link("user", idpId, invited.id, "created");
      targetId = invited.id;
      state = invited.status === "pending" ? "pending" : "ok";
      linked = true;
      done.push(`invited ${invited.id}`);
    } else {
      // Removing the member also takes it out of every user group.
      await client.removeMember(change.memberId);
      await links.unlink("user", idpId, change.memberId);
      targetId = undefined;
      state = "ok";
      done.push(`removed ${change.memberId}`);
    }
  }
  if (linked) {
    // A newly linked member belongs in its groups: their jobs add it.
    const groups = await store.getUserGroups(idpId);
    await enqueueTargetSyncs([ctx.queue], groups.map((id) => `group:${id}` as const));
  }
  const result = done.length ? done.join("; ") : plan.note ?? plan.info ?? "in step";
  await links.record("user", idpId, { state, result, lastSyncAt: new Date().toISOString() });
  return { result, changes: done, targetId: targetId || undefined };
}

/** Brings one IdP group's user group and its members in step. @throws {SyncConflictError} */
export async function syncCloudflareGroup(
  ctx: CloudflareSyncContext,
  idpId: string,
): Promise<TargetOutcome> {
  const { store, links, client, mapping } = ctx;
  const [wanted, link] = await Promise.all([store.getGroup(idpId), links.get("group", idpId)]);
  const desired = desiredCloudflareGroup(mapping.cloudflare, wanted);
  let current: CloudflareUserGroup | undefined;
  let origin = link.origin;
  if (link.targetId) {
    current = await client.getUserGroup(link.targetId);
    if (!current) {
      await links.unlink("group", idpId, link.targetId);
      origin = undefined;
    }
  }
  if (!current && link.creating) {
    // Our own create's answer was lost.
    const found = await client.findUserGroupByName(link.creating);
    current = await claimLostCreate(ctx, "group", idpId, found, (g) => g.id);
    if (current) origin = "created";
  }
  if (!current && desired.kind === "present") {
    const name = desired.name;
    current = await client.findUserGroupByName(name);
    origin = current
      ? await takeOverFoundGroup(ctx, idpId, current.id, name, (holder) => {
        const wants = desiredCloudflareGroup(mapping.cloudflare, holder);
        return wants.kind === "present" && wants.name === name;
      }).catch(async (e) => {
        if (e instanceof SyncConflictError) {
          await links.record("group", idpId, { state: "conflict", result: "conflict" });
        }
        throw e;
      })
      : undefined;
    if (current && origin) await links.link("group", idpId, current.id, origin);
  }
  const plan = planCloudflareGroup({ desired, current, origin, mapping });
  if (plan.conflict) {
    await links.record("group", idpId, { state: "conflict", result: "conflict" });
    throw new SyncConflictError(plan.conflict);
  }
  if (cloudflareGroupAdopts({ desired, current, origin }, plan)) {
    await links.link("group", idpId, current!.id, "adopted");
    origin = "adopted";
  }
  const done: string[] = [];
  let groupId = current?.id;
  for (const change of plan.changes) {
    if (change.op === "create") {
      const created = await links.creating(
        "group",
        idpId,
        change.name,
        () => client.createUserGroup(change),
      );
      await links.link("group", idpId, created.id, "created");
      groupId = created.id;
      done.push(`created ${created.id}`);
    } else if (change.op === "update") {
      await client.updateUserGroup(change.groupId, change).catch(groupGone(change.groupId));
      done.push(`updated ${change.groupId}`);
    } else {
      await client.deleteUserGroup(change.groupId);
      await links.unlink("group", idpId, change.groupId);
      groupId = undefined;
      done.push(`deleted ${change.groupId}`);
    }
  }
  if (groupId) {
    // Members: IdP members who should be account members and are linked; an absent (released)
    // group keeps only the members the sync does not manage.
    const memberIds = desired.kind === "present" ? await store.getMembers(idpId) : [];
    const users = await store.getUsers(memberIds);
    const eligible = cloudflareGroupEligible(desired, memberIds, users);
    const wantedIds = [...(await links.targetIds("user", eligible)).values()];
    const [now, managed] = await Promise.all([
      client.listGroupMembers(groupId).catch(groupGone(groupId)),
      links.managedTargetIds("user"),
    ]);
    const changes = planCloudflareMembership({
      wanted: wantedIds,
      current: now.map((m) => m.id),
      managed,
    });
    for (const c of changes) {
      if (c.op === "remove") await client.removeGroupMember(groupId, c.memberId);
      else if (c.op === "add") {
        await client.addGroupMembers(groupId, c.memberIds)
          .catch(raced("a member left the account since the look-up"))
          .catch(groupGone(groupId));
      } else {
        await client.replaceGroupMembers(groupId, c.memberIds)
          .catch(raced("a member left the account since the look-up"))
          .catch(groupGone(groupId));
      }
      done.push(
        c.op === "remove" ? `member -${c.memberId}` : `members ${c.op} ${c.memberIds.length}`,
      );
    }
    if (desired.kind === "absent" && origin === "adopted") {
      await links.unlink("group", idpId, groupId);
      done.push(`released ${groupId}`);
    }
  }
  const result = done.length ? done.join("; ") : plan.note ?? "in step";
  await links.record("group", idpId, { state: "ok", result, lastSyncAt: new Date().toISOString() });
  return { result, changes: done, targetId: groupId || undefined };
}

/**
 * A member just linked from a listing (found by email, under the `creating` mark, or adopted)
 * may have been removed between the listing and the link: by the job of an IdP user it was
 * another's, which lets go of it only after removing it, or by a person. Linked to something
 * gone, the user would own no account, its groups' jobs would fail adding it, and no job of its
 * own would look again; so the link is checked once, and when the member is gone, dropped and
 * the job retried. Once linked, only this user's own job removes it.
 *
 * @throws {WaitingForDependencyError} when the member is gone
 */
async function stillThere(ctx: CloudflareSyncContext, idpId: string, memberId: string) {
  if (await ctx.client.getMember(memberId)) return;
  await ctx.links.unlink("user", idpId, memberId);
  throw new WaitingForDependencyError(
    `Cloudflare member ${memberId} was removed between the look-up and the link; looking again`,
  );
}

/**
 * A 404 on the user group this job read or made a moment ago: it was deleted since, by a person
 * or by the job of the IdP group whose it was. Retried, the job reads again, drops the link and
 * creates or finds the group anew (model test, cloudflare seed 339), as a Contabo update
 * answered 404 does; a failure for good would leave the IdP group without its user group.
 */
function groupGone(groupId: string) {
  return (error: unknown): never => {
    if (error instanceof TargetApiError && error.status === 404) {
      throw new WaitingForDependencyError(
        `Cloudflare user group ${groupId} was deleted since this job read it: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  };
}

/**
 * Cloudflare answers 400 (code 1001) when an invited email is already a member or a member added
 * to a group has left the account: both mean another job changed the account since this one
 * looked. Retried, the job looks again (and finds the member, or leaves the gone one out).
 */
function raced(why: string) {
  return (error: unknown): never => {
    if (error instanceof TargetApiError && error.status === 400) {
      throw new WaitingForDependencyError(`${why}: ${error.message}`, { cause: error });
    }
    throw error;
  };
}
