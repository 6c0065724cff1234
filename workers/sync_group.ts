/**
 * Brings one IONOS group in line with the IdP: create (or adopt by name), rename, set
 * privileges, and make its members match; on a delete at the IdP, or a rename out of
 * `groups.include`, the group's access ends. Members whose IONOS user does not exist yet are
 * left pending; creating that user enqueues this group again.
 *
 * Order follows "removal wins" (docs/security.md): member removals, then privileges taken away,
 * then the rest of the update, then member adds; a failure late in that order never blocks an
 * earlier reduction.
 */
import { isProtectedEmail, matchesAny } from "../src/config/mapping.ts";
import { IonosApiError } from "../src/targets/ionos/errors.ts";
import type { IonosGroup, IonosGroupProperties } from "../src/targets/ionos/types.ts";
import { enqueueSync } from "../src/queue/sync_queue.ts";
import type { IonosTwin } from "../src/targets/ionos/records.ts";
import { entityKey, type WantedGroup } from "../src/store/wanted_state.ts";
import type { SyncContext, SyncOutcome } from "./context.ts";
import { forEachConcurrently } from "./concurrently.ts";
import {
  desiredGroup,
  groupDiff,
  groupInScope,
  groupRemoval,
  memberChanges,
  ownPrivileges,
  privilegeReduction,
  recordPrivileges,
} from "../src/targets/ionos/decisions.ts";
import { SyncConflictError, WaitingForDependencyError } from "./errors.ts";
import { classifyFailure } from "./failure_policy.ts";
import { whileCreateSettles } from "./own_create.ts";
import { ownedWrite, PassedOnError } from "./owned_write.ts";
import { releaseBindings } from "./release_bindings.ts";
import { ownCreateConfirmed, settleWrites } from "./request_steps.ts";
import { syncShares } from "./sync_shares.ts";

/** Membership writes one group job keeps in flight at once. */
const MEMBER_WRITES_IN_FLIGHT = 8;

/**
 * Syncs the group with IdP id `id`.
 *
 * @throws {SyncConflictError} when an IONOS group with the name exists and `adopt.groups` is off.
 * @example
 * await syncGroup(ctx, "00g1"); // { result: "created; added 3 members", ionosId: "..." }
 */
export async function syncGroup(ctx: SyncContext, id: string): Promise<SyncOutcome> {
  const wanted = await ctx.store.getGroup(id);
  // Memberships can arrive before their group: the group's own event enqueues us again.
  if (!wanted) return { result: "nothing wanted" };
  // A create whose answer was lost is ours whatever the IdP wants now (see withLostCreate).
  let twin = await withLostCreate(ctx, id, await ctx.records.get("group", id));
  // Our own create, sent by an earlier run that did not wait for it (or found after a lost
  // answer): once known DONE, the group is ours to write to like any other.
  // A FAILED one needs nothing here: the twin stays "creating", the read below finds no group
  // and the plan creates it again (or, should it exist after all, confirms it as a lost answer).
  const ownCreateDone = await ownCreateConfirmed(ctx, "group", twin);
  if (ownCreateDone) twin = { ...twin, state: "synced" };
  await refreshAdministrators(ctx, wanted, twin);
  await finishInterruptedUpdate(ctx, twin);

  if (wanted.deleted) return await endGroup(ctx, wanted, twin, "deleted at the IdP");
  if (!groupInScope(ctx.mapping, wanted.displayName)) {
    // Out of scope is handled as deleted: the access it gave ends.
    return await endGroup(ctx, wanted, twin, "not in groups.include");
  }

  const changes: string[] = [];
  let group = twin?.ionosId ? await ctx.ionos.getGroup(twin.ionosId) : undefined;
  let origin = twin?.origin ?? "created";
  let settling = twin?.state === "creating";
  let linkedOwn: string | undefined;
  if (!group) {
    if (twin?.ionosId) await ctx.records.forget("group", id, twin.ionosId);
    const linked = await whileHoldingName(
      ctx,
      id,
      wanted.displayName,
      () => linkOrCreateGroup(ctx, wanted, twin),
    );
    group = linked.group;
    origin = linked.origin;
    settling = linked.ownCreateFound;
    linkedOwn = linked.ownPrivileges;
    changes.push(linked.change);
    // IONOS refuses writes on a group whose create is not DONE: the next run goes on from here.
    if (linked.createPending) settleWrites(ctx, "a new group is DONE before its members");
  }

  const ionosGroupId = group.id;
  const members = await memberPlan(ctx, id, ionosGroupId);
  const removed = await writeMembers(
    members.remove,
    (u) => whileCreateSettles(settling, () => ctx.ionos.removeGroupMember(ionosGroupId, u)),
  );
  if (removed) changes.push(`removed ${plural(removed, "member")}`);
  // An adopted group adopted before its privileges were recorded keeps the ones it has now.
  const own = ownPrivileges(linkedOwn ?? twin?.ownPrivileges) ?? group.properties;
  const desired = desiredGroup(ctx.mapping, wanted.displayName, origin, own);
  const reduced = privilegeReduction(group.properties, desired);
  if (reduced) {
    group = await whileCreateSettles(settling, () => ctx.ionos.updateGroup(ionosGroupId, reduced));
    changes.push("removed privileges");
  }
  const diff = groupDiff(group.properties, desired);
  // Removal wins: a member removed does not see privileges granted, and a member added does not
  // see the ones being taken away; the job goes on once those writes are DONE, planning again.
  if ((removed && diff.length > 0) || (reduced && (diff.length > 0 || members.add.length > 0))) {
    settleWrites(
      ctx,
      "member removals and privileges taken away land before any grant",
      diff.length > 0 ? { kind: "group", ionosId: ionosGroupId, properties: desired } : undefined,
    );
  }
  if (diff.length > 0 || (settling && !reduced && !removed)) {
    // Our own create found after a lost answer is written to even when nothing differs: the
    // write can only land once that create is DONE, which confirms it (see ./own_create.ts).
    group = await whileCreateSettles(settling, () => ctx.ionos.updateGroup(ionosGroupId, desired));
    changes.push(diff.length ? `updated ${diff.join(", ")}` : "confirmed own create");
  }
  // What was recorded belongs to the group the twin named, not to one linked in its place.
  const shares = await syncShares(
    ctx,
    id,
    ionosGroupId,
    wanted.displayName,
    twin?.ionosId === ionosGroupId ? twin.managedShares : undefined,
    (w) => whileCreateSettles(settling, w),
  );
  changes.push(...shares.changes);
  // Our own create after a lost answer is confirmed by a write reaching DONE: members go in
  // after that (the next run knows it from that write, see ownCreateConfirmed).
  if (settling && members.add.length > 0) {
    settleWrites(ctx, "our own create is confirmed before members are added");
  }
  // Each add is made for the IdP user that holds the account, and only while it does: taken
  // over since the plan (its IdP user deleted, the person re-created), the account would get a
  // membership the IdP never gave the new owner (./owned_write.ts). Its own job enqueues the
  // groups the new owner is in.
  let passedOn = 0;
  const added = await writeMembers(members.add, async (u) => {
    try {
      await whileCreateSettles(
        settling,
        () => ownedWrite(ctx, members.holders.get(u)!, u, () => addMember(ctx, ionosGroupId, u)),
      );
      return true;
    } catch (error) {
      if (!(error instanceof PassedOnError)) throw error;
      passedOn++;
      return false;
    }
  });
  if (added) changes.push(`added ${plural(added, "member")}`);
  if (passedOn) changes.push(`${plural(passedOn, "member")} passed to another IdP user: not added`);

  // A name held since a create whose answer was lost is free now that the group is linked.
  if (twin?.state === "creating" || ownCreateDone) await releaseBindings(ctx, "group", id);
  const result = changes.length ? changes.join("; ") : "in sync";
  await ctx.records.set("group", id, {
    ionosId: group.id,
    label: group.properties.name,
    state: "synced",
    lastSyncAt: new Date().toISOString(),
    lastResult: result,
    lastError: "",
    pendingMembers: String(members.pending),
    ...(twin?.request ? { request: "" } : {}),
  });
  // The rest is synced; an unknown resource is for a person to fix in the mapping.
  if (shares.unknownResources) {
    throw new SyncConflictError(`${shares.unknownResources} (the rest was applied: ${result})`);
  }
  return { result, ionosId: group.id, changes };
}

/**
 * The previous run stopped after a reduction, before the rest of its update: that update goes
 * out first (it was planned with the reduction, as one plan), and the step plans anew once it is
 * DONE. A group gone meanwhile has nothing to finish.
 */
async function finishInterruptedUpdate(
  ctx: SyncContext,
  twin: IonosTwin | undefined,
): Promise<void> {
  const rest = ctx.interrupted;
  if (rest?.kind !== "group" || !twin?.ionosId || twin.ionosId !== rest.ionosId) return;
  try {
    await ctx.ionos.updateGroup(rest.ionosId, rest.properties as IonosGroupProperties);
  } catch (error) {
    if (error instanceof IonosApiError && error.status === 404) return;
    throw error;
  }
  settleWrites(ctx, "the update the previous run stopped before lands first");
}

/**
 * Links or creates the group while holding its name, so that no other IdP group adopts an IONOS
 * group whose create is still running (names are not unique in IONOS, and a group only shows as
 * managed once its create is DONE). Another IdP group linking the same name waits. The name is
 * kept after a retryable failure (a lost answer: the create may have happened) and released
 * otherwise; groups that waited for it are synced again.
 */
async function whileHoldingName<T>(
  ctx: SyncContext,
  idpId: string,
  name: string,
  link: () => Promise<T>,
): Promise<T> {
  const claim = await ctx.groupNameOwners.claim(name, idpId);
  if (!claim.held) {
    throw new WaitingForDependencyError(
      `IdP group ${claim.owner} is linking an IONOS group named "${name}"; waiting for it`,
    );
  }
  try {
    const linked = await link();
    await releaseBindings(ctx, "group", idpId);
    return linked;
  } catch (error) {
    if (classifyFailure(error) === "permanent") await releaseBindings(ctx, "group", idpId);
    throw error;
  }
}

/**
 * Ends the access a group gave, when it was deleted at the IdP or left `groups.include`: a
 * group the service created is deleted (IONOS drops its memberships with it); one it adopted
 * loses the members the service manages and stays.
 */
async function endGroup(
  ctx: SyncContext,
  wanted: WantedGroup,
  twin: IonosTwin | undefined,
  why: string,
): Promise<SyncOutcome> {
  const record = async (result: string) => {
    await ctx.records.set("group", wanted.id, {
      state: "skipped",
      lastResult: result,
      lastSyncAt: new Date().toISOString(),
      lastError: "",
    });
  };
  if (!twin?.ionosId) {
    if (twin) await record(why);
    await releaseBindings(ctx, "group", wanted.id);
    return { result: why };
  }
  const group = await ctx.ionos.getGroup(twin.ionosId);
  if (!group) {
    await ctx.records.forget("group", wanted.id, twin.ionosId);
    await releaseBindings(ctx, "group", wanted.id);
    return { result: `${why}; already gone`, ionosId: twin.ionosId };
  }
  if (groupRemoval(twin.origin) === "delete") {
    await whileCreateSettles(twin.state === "creating", () => ctx.ionos.deleteGroup(group.id));
    // Gone before its name may be linked anew (the next run finds it gone).
    settleWrites(ctx, "a delete lands before the name is released");
    await ctx.records.forget("group", wanted.id, group.id);
    await releaseBindings(ctx, "group", wanted.id);
    return { result: `deleted (${why})`, ionosId: group.id, changes: ["deleted"] };
  }
  const members = await memberPlan(ctx, undefined, group.id);
  const removed = await writeMembers(
    members.remove,
    (u) =>
      whileCreateSettles(twin.state === "creating", () => ctx.ionos.removeGroupMember(group.id, u)),
  );
  if (removed) settleWrites(ctx, "the removals land before the group is let go");
  // The shares the service set end with the group's access; hand-made ones stay.
  const shares = await syncShares(
    ctx,
    wanted.id,
    group.id,
    undefined,
    twin.managedShares,
    (w) => whileCreateSettles(twin.state === "creating", w),
  );
  // Taken back before the group is let go: once its record is forgotten, nothing would know
  // that a share which failed to go was ours.
  settleWrites(ctx, "the shares the service set are taken back before the group is let go");
  const result = `${why}: adopted group kept, ${plural(removed, "managed member")} removed` +
    shares.changes.map((c) => `, ${c}`).join("");
  await releaseBindings(ctx, "group", wanted.id);
  if (wanted.deleted) {
    await ctx.records.forget("group", wanted.id, group.id);
  } else {
    // Kept linked, so a rename back into scope syncs the same IONOS group again.
    await record(result);
  }
  return { result, ionosId: group.id, changes: removed ? [`removed ${removed}`] : [] };
}

/**
 * A create whose answer was lost may still have made the group: the "creating" mark names the
 * group it was sent with, and an unmanaged group with that name is ours to end like any other
 * (else it would be left behind with its privileges). The name was held meanwhile, so no other
 * IdP group adopted it.
 */
async function withLostCreate(
  ctx: SyncContext,
  idpId: string,
  twin: IonosTwin | undefined,
): Promise<IonosTwin | undefined> {
  if (!twin || twin.ionosId || twin.state !== "creating" || !twin.label) return twin;
  const managed = await ctx.records.managed("group");
  // Names are not unique: a group that had the name before our create was sent (a pre-existing
  // one another IdP group held then and has let go since, say) is never taken for ours.
  const before = new Set((twin.namesakes ?? "").split(",").filter(Boolean));
  const candidates: IonosGroup[] = [];
  for await (const g of ctx.ionos.iterateGroups({ depth: 1 })) {
    if (managed.has(g.id) || g.properties.name !== twin.label || before.has(g.id)) continue;
    candidates.push(g);
  }
  if (candidates.length > 1) {
    // Ours and one made by hand since, and nothing to tell them apart: deleting or writing to
    // the wrong one is worse than leaving ours for a person to remove.
    throw new SyncConflictError(
      `conflict: a create of IONOS group "${twin.label}" lost its answer and ` +
        `${candidates.length} unmanaged groups of that name appeared since ` +
        `(${candidates.map((g) => g.id).join(", ")}); delete the one the service made, or ` +
        `rename the others`,
    );
  }
  const own = candidates[0];
  if (!own) return twin;
  await ctx.records.set("group", idpId, { ionosId: own.id, origin: "created", namesakes: "" });
  return { ...twin, ionosId: own.id, origin: "created" };
}

/** Adopts an unmanaged IONOS group with the same name (or our own lost create), or creates it. */
async function linkOrCreateGroup(
  ctx: SyncContext,
  wanted: WantedGroup,
  twin: IonosTwin | undefined,
): Promise<
  {
    group: IonosGroup;
    origin: "created" | "adopted";
    change: string;
    ownCreateFound: boolean;
    ownPrivileges?: string;
    createPending?: boolean;
  }
> {
  // A "creating" mark from before marks named their group means our own create went through
  // but its answer was lost (marks with a name are resolved by withLostCreate).
  const ownName = twin?.state === "creating" && !twin.label ? wanted.displayName : undefined;
  // Group names are not unique in IONOS and cannot be filtered: page through them once.
  const managed = await ctx.records.managed("group");
  let adoptable: IonosGroup | undefined;
  // Every group of the name now, managed or not: none of them can be our create after a lost
  // answer (see withLostCreate).
  const namesakes: string[] = [];
  for await (const g of ctx.ionos.iterateGroups({ depth: 1 })) {
    if (g.properties.name === wanted.displayName) namesakes.push(g.id);
    if (managed.has(g.id)) continue;
    if (ownName !== undefined && g.properties.name === ownName) {
      // Stays "creating" until a job has written to it (see ./own_create.ts).
      await ctx.records.set("group", wanted.id, {
        ionosId: g.id,
        origin: "created",
        state: "creating",
      });
      return {
        group: g,
        origin: "created",
        change: "created (found after a lost answer)",
        ownCreateFound: true,
      };
    }
    if (g.properties.name === wanted.displayName) adoptable ??= g;
  }
  if (adoptable) {
    if (!ctx.mapping.adopt.groups) {
      throw new SyncConflictError(
        `conflict: IONOS group ${adoptable.id} is named "${wanted.displayName}" and ` +
          `adopt.groups is false; rename it in IONOS or set adopt.groups: true`,
      );
    }
    const own = recordPrivileges(adoptable.properties);
    await ctx.records.set("group", wanted.id, {
      ionosId: adoptable.id,
      origin: "adopted",
      state: "synced",
      ownPrivileges: own,
    });
    return {
      group: adoptable,
      origin: "adopted",
      change: "adopted",
      ownCreateFound: false,
      ownPrivileges: own,
    };
  }
  await ctx.records.set("group", wanted.id, {
    state: "creating",
    label: wanted.displayName,
    namesakes: namesakes.join(","),
  });
  const group = await ctx.ionos.createGroup(desiredGroup(ctx.mapping, wanted.displayName));
  // Sent without waiting (under a worker): the request is kept with the twin, which stays
  // "creating" until it is DONE, so that no run, not even after a crash, writes to it sooner.
  const request = ctx.writes?.requestFor(group.id);
  await ctx.records.set("group", wanted.id, {
    ionosId: group.id,
    origin: "created",
    state: request ? "creating" : "synced",
    namesakes: "",
    ...(request ? { request: request.id, requestDate: request.serverDate ?? "" } : {}),
  });
  return {
    group,
    origin: "created",
    change: "created",
    ownCreateFound: false,
    createPending: !!request,
  };
}

/**
 * Which members to add and remove. `groupId` undefined means the IdP wants no members (the
 * group's access is ending). Only alive IdP users with an IONOS account are wanted; members the
 * service does not manage, and protected accounts, are never moved.
 */
async function memberPlan(
  ctx: SyncContext,
  groupId: string | undefined,
  ionosGroupId: string,
): Promise<{ add: string[]; remove: string[]; pending: number; holders: Map<string, string> }> {
  const wantedMembers = groupId ? await ctx.store.getMembers(groupId) : [];
  const users = await ctx.store.getUsers(wantedMembers);
  const alive = wantedMembers.filter((uid) => users.get(uid)?.deleted === false);
  const twins = await ctx.records.fieldsOf("user", alive, ["ionosId", "label", "state"]);
  const wanted = new Set<string>();
  const protectedIds = new Set<string>();
  /** IONOS id -> the IdP user it is added for. */
  const holders = new Map<string, string>();
  for (const [i, twin] of twins.entries()) {
    // A user whose create may still be running waits; its own job enqueues this group again.
    if (!twin.ionosId || twin.state === "creating") continue;
    wanted.add(twin.ionosId);
    holders.set(twin.ionosId, alive[i]!);
    if (isProtectedEmail(ctx.mapping, twin.label)) protectedIds.add(twin.ionosId);
  }
  const actualUsers = await ctx.ionos.listGroupMembers(ionosGroupId);
  for (const u of actualUsers) {
    if (isProtectedEmail(ctx.mapping, u.properties?.email)) protectedIds.add(u.id);
  }
  const actual = new Set(actualUsers.map((u) => u.id));
  const extra = [...actual].filter((u) => !wanted.has(u));
  const managed = await ctx.records.managedAmong("user", extra);
  const { add, remove } = memberChanges(wanted, actual, managed, protectedIds);
  return { add, remove, pending: alive.length - wanted.size, holders };
}

/** Adds a member; a 404 means the user (or group) vanished since the plan: plan again. */
async function addMember(ctx: SyncContext, groupId: string, userId: string): Promise<void> {
  try {
    await ctx.ionos.addGroupMember(groupId, userId);
  } catch (error) {
    if (error instanceof IonosApiError && error.status === 404) {
      throw new WaitingForDependencyError(
        `user ${userId} or group ${groupId} is gone from IONOS since this job planned; planning again`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Member writes are independent of each other: several stay in flight (the shared rate limiter
 * still paces them), each one waiting for its own request to finish.
 */
async function writeMembers(
  userIds: string[],
  write: (userId: string) => Promise<unknown>,
): Promise<number> {
  let done = 0;
  await forEachConcurrently(userIds, MEMBER_WRITES_IN_FLIGHT, async (userId) => {
    // `false`: nothing written (see the member adds).
    if (await write(userId) !== false) done++;
  });
  return done;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Administrator rights follow membership of the groups the mapping names. When such a group
 * changes, its members' users are synced again; they compute their own flag.
 */
async function refreshAdministrators(
  ctx: SyncContext,
  wanted: WantedGroup,
  twin: IonosTwin | undefined,
): Promise<void> {
  const admins = ctx.mapping.administrators;
  if (admins.length === 0) return;
  // A rename re-syncs the members from the store (apply_events.lua); this covers membership
  // changes and deletes of a group that is, or was last synced as, an administrators group.
  const isAdminGroup = matchesAny(admins, wanted.displayName) ||
    (!!twin?.label && matchesAny(admins, twin.label));
  if (!isAdminGroup) return;
  const users = await ctx.store.getMemberHistory(wanted.id);
  await enqueueSync(ctx.queue, users.map((u) => entityKey("user", u)));
}
