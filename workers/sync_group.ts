/**
 * Brings one IONOS group in line with the IdP: create (or adopt by name), rename, set
 * privileges, delete, and make its members match. Members whose IONOS user does not exist yet
 * are left pending; creating that user enqueues this group again.
 */
import { matchesAny } from "../src/config/mapping.ts";
import type { IonosGroup, IonosGroupProperties } from "../src/ionos/types.ts";
import { enqueueSync } from "../src/queue/sync_queue.ts";
import type { TwinRecord } from "../src/store/sync_records.ts";
import { entityKey, type WantedGroup } from "../src/store/wanted_state.ts";
import type { SyncContext, SyncOutcome } from "./context.ts";
import { forEachConcurrently } from "./concurrently.ts";
import { desiredGroup, groupDiff } from "./desired_state.ts";

/** Membership writes one group job keeps in flight at once. */
const MEMBER_WRITES_IN_FLIGHT = 8;

/**
 * Syncs the group with IdP id `id`.
 *
 * @example
 * await syncGroup(ctx, "00g1"); // { result: "created; added 3 members", ionosId: "..." }
 */
export async function syncGroup(ctx: SyncContext, id: string): Promise<SyncOutcome> {
  const wanted = await ctx.store.getGroup(id);
  // Memberships can arrive before their group: the group's own event enqueues us again.
  if (!wanted) return { result: "nothing wanted" };
  const twin = await ctx.records.get("group", id);
  await refreshAdministrators(ctx, wanted, twin);

  if (wanted.deleted) {
    if (!twin?.ionosId) return { result: "nothing to remove" };
    await ctx.ionos.deleteGroup(twin.ionosId);
    await ctx.records.forget("group", id, twin.ionosId);
    return { result: "deleted", ionosId: twin.ionosId, changes: ["deleted"] };
  }
  if (!matchesAny(ctx.mapping.groups.include, wanted.displayName)) {
    await ctx.records.set("group", id, {
      state: "skipped",
      lastResult: "not in groups.include",
      lastSyncAt: new Date().toISOString(),
    });
    return { result: "not in groups.include" };
  }

  const desired = desiredGroup(ctx.mapping, wanted.displayName);
  const changes: string[] = [];
  let group = twin?.ionosId ? await ctx.ionos.getGroup(twin.ionosId) : undefined;
  if (!group) {
    if (twin?.ionosId) await ctx.records.forget("group", id, twin.ionosId);
    const linked = await linkOrCreateGroup(ctx, wanted, twin, desired);
    group = linked.group;
    changes.push(linked.change);
  }
  const diff = groupDiff(group.properties, desired);
  if (diff.length > 0) {
    group = await ctx.ionos.updateGroup(group.id, desired);
    changes.push(`updated ${diff.join(", ")}`);
  }

  const members = await syncMembers(ctx, id, group.id);
  changes.push(...members.changes);
  const result = changes.length ? changes.join("; ") : "in sync";
  await ctx.records.set("group", id, {
    ionosId: group.id,
    label: wanted.displayName,
    state: "synced",
    lastSyncAt: new Date().toISOString(),
    lastResult: result,
    lastError: "",
    pendingMembers: String(members.pending),
  });
  return { result, ionosId: group.id, changes };
}

/** Adopts an unmanaged IONOS group with the same name (or our own lost create), or creates it. */
async function linkOrCreateGroup(
  ctx: SyncContext,
  wanted: WantedGroup,
  twin: TwinRecord | undefined,
  desired: IonosGroupProperties,
): Promise<{ group: IonosGroup; change: string }> {
  // Group names are not unique in IONOS and cannot be filtered: page through them once.
  const managed = await ctx.records.managed("group");
  for await (const g of ctx.ionos.iterateGroups({ depth: 1 })) {
    if (g.properties.name === wanted.displayName && !managed.has(g.id)) {
      const own = twin?.state === "creating";
      await ctx.records.set("group", wanted.id, {
        ionosId: g.id,
        origin: own ? "created" : "adopted",
        state: "synced",
      });
      return { group: g, change: own ? "created (found after a lost answer)" : "adopted" };
    }
  }
  await ctx.records.set("group", wanted.id, { state: "creating" });
  const group = await ctx.ionos.createGroup(desired);
  await ctx.records.set("group", wanted.id, {
    ionosId: group.id,
    origin: "created",
    state: "synced",
  });
  return { group, change: "created" };
}

/** Adds missing members and removes managed users who should no longer be members. */
async function syncMembers(
  ctx: SyncContext,
  groupId: string,
  ionosGroupId: string,
): Promise<{ changes: string[]; pending: number }> {
  const wantedMembers = await ctx.store.getMembers(groupId);
  const ionosIds = await ctx.records.ionosIds("user", wantedMembers);
  const desired = new Set(ionosIds.filter((x): x is string => !!x));
  const pending = wantedMembers.length - desired.size;
  const actual = new Set((await ctx.ionos.listGroupMembers(ionosGroupId)).map((u) => u.id));

  // Member writes are independent of each other: keep several in flight (the shared rate
  // limiter still paces them), each one waiting for its own request to finish.
  const toAdd = [...desired].filter((id) => !actual.has(id));
  // Members we do not manage were put there by someone else: leave them.
  const extra = [...actual].filter((id) => !desired.has(id));
  const managedExtra = await ctx.records.managedAmong("user", extra);
  const toRemove = extra.filter((id) => managedExtra.has(id));
  let added = 0;
  let removed = 0;
  await forEachConcurrently(toAdd, MEMBER_WRITES_IN_FLIGHT, async (userId) => {
    await ctx.ionos.addGroupMember(ionosGroupId, userId);
    added++;
  });
  await forEachConcurrently(toRemove, MEMBER_WRITES_IN_FLIGHT, async (userId) => {
    await ctx.ionos.removeGroupMember(ionosGroupId, userId);
    removed++;
  });
  const changes: string[] = [];
  if (added) changes.push(`added ${added} member${added === 1 ? "" : "s"}`);
  if (removed) changes.push(`removed ${removed} member${removed === 1 ? "" : "s"}`);
  return { changes, pending };
}

/**
 * Administrator rights follow membership of the groups the mapping names. When such a group
 * changes, its members' users are synced again; they compute their own flag.
 */
async function refreshAdministrators(
  ctx: SyncContext,
  wanted: WantedGroup,
  twin: TwinRecord | undefined,
): Promise<void> {
  const admins = ctx.mapping.administrators;
  if (admins.length === 0) return;
  const isAdminGroup = matchesAny(admins, wanted.displayName) ||
    (!!twin?.label && matchesAny(admins, twin.label));
  if (!isAdminGroup) return;
  const users = await ctx.store.getMemberHistory(wanted.id);
  await enqueueSync(ctx.queue, users.map((u) => entityKey("user", u)));
}
