/**
 * Brings one IONOS user in line with the IdP's wanted state: create (or adopt by email),
 * update, deactivate, reactivate, delete. Only users we created or adopted are ever changed.
 */
import { isProtectedEmail } from "../src/config/mapping.ts";
import type { IonosUser, IonosUserProperties } from "../src/ionos/types.ts";
import { enqueueSync } from "../src/queue/sync_queue.ts";
import type { TwinRecord } from "../src/store/sync_records.ts";
import { entityKey, type WantedUser } from "../src/store/wanted_state.ts";
import { desiredUser, isAdministrator, userDiff } from "./desired_state.ts";
import type { SyncContext, SyncOutcome } from "./context.ts";
import { SyncConflictError, WaitingForDependencyError } from "./errors.ts";
import { generatePassword } from "./password.ts";

/**
 * Syncs the user with IdP id `id`.
 *
 * @example
 * await syncUser(ctx, "00u1"); // { result: "created", ionosId: "..." }
 */
export async function syncUser(ctx: SyncContext, id: string): Promise<SyncOutcome> {
  const wanted = await ctx.store.getUser(id);
  if (!wanted) return { result: "nothing wanted" };
  const twin = await ctx.records.get("user", id);
  if (wanted.deleted) return await removeUser(ctx, wanted, twin);
  const admin = await isAdministratorUser(ctx, id);

  let current = twin?.ionosId ? await ctx.ionos.getUser(twin.ionosId) : undefined;
  const changes: string[] = [];
  let linked = false;
  if (!current) {
    // Deleted behind our back: that IONOS id is no longer ours to track.
    if (twin?.ionosId) await ctx.records.forget("user", id, twin.ionosId);
    const found = await linkOrCreateUser(ctx, wanted, twin, admin);
    current = found.user;
    changes.push(found.adoptedOwnCreate ? "created (found after a lost answer)" : found.origin);
    linked = true;
  }

  const desired = desiredProperties(ctx, wanted, admin, current);
  const diff = userDiff(current.properties, desired);
  if (diff.length > 0) {
    // IONOS has no PATCH: send the full property set, as the official tools do.
    current = await ctx.ionos.updateUser(current.id, desired);
    changes.push(`updated ${diff.join(", ")}`);
  }
  await ctx.records.set("user", id, {
    ionosId: current.id,
    label: desired.email,
    state: "synced",
    lastSyncAt: new Date().toISOString(),
    lastResult: changes.length ? changes.join("; ") : "in sync",
    lastError: "",
  });
  if (linked) {
    // Memberships that waited for this user can now be applied.
    const groups = await ctx.store.getUserGroups(id);
    await enqueueSync(ctx.queue, groups.map((g) => entityKey("group", g)));
  }
  return { result: changes.length ? changes.join("; ") : "in sync", ionosId: current.id, changes };
}

/** Finds the IONOS user with the wanted email and adopts it, or creates one. */
async function linkOrCreateUser(
  ctx: SyncContext,
  wanted: WantedUser,
  twin: TwinRecord | undefined,
  admin: boolean,
): Promise<{ user: IonosUser; origin: "created" | "adopted"; adoptedOwnCreate: boolean }> {
  const email = wanted.email!;
  const existing = await ctx.ionos.findUserByEmail(email);
  if (existing) await ensureNotOwnedByAnother(ctx, wanted.id, existing.id, email);
  if (existing) {
    // A "creating" mark means our own create went through but its answer was lost.
    const own = twin?.state === "creating";
    const origin = own ? "created" : twin?.origin ?? "adopted";
    await ctx.records.set("user", wanted.id, { ionosId: existing.id, origin, state: "synced" });
    ctx.logger.info(own ? "found own user after lost answer" : "adopted existing IONOS user", {
      idpId: wanted.id,
      ionosId: existing.id,
    });
    return { user: existing, origin, adoptedOwnCreate: own };
  }
  await ctx.records.set("user", wanted.id, { state: "creating" });
  const props = desiredProperties(ctx, wanted, admin, undefined);
  const { secAuthActive: _ignored, ...createProps } = props; // cannot be sent on create
  const user = await ctx.ionos.createUser({ ...createProps, password: generatePassword() });
  await ctx.records.set("user", wanted.id, {
    ionosId: user.id,
    origin: "created",
    state: "synced",
  });
  ctx.logger.info("created IONOS user", { idpId: wanted.id, ionosId: user.id });
  return { user, origin: "created", adoptedOwnCreate: false };
}

/**
 * An IONOS user we already manage for another IdP user is not adopted twice. If that other user
 * is being deleted (the IdP re-created someone under a new id), wait for its deletion; if it is
 * alive, two IdP users share one email and a person has to decide.
 */
async function ensureNotOwnedByAnother(
  ctx: SyncContext,
  idpId: string,
  ionosId: string,
  email: string,
): Promise<void> {
  const owner = await ctx.records.ownerOf("user", ionosId);
  if (owner === undefined || owner === idpId) return;
  const other = await ctx.store.getUser(owner);
  if (!other || other.deleted) {
    // A deleted owner whose IONOS user stays (deactivated, or protected) hands it over.
    if (ctx.mapping.onUserDeleted === "deactivate" || isProtectedEmail(ctx.mapping, email)) {
      await ctx.records.forget("user", owner, ionosId);
      return;
    }
    throw new WaitingForDependencyError(
      `IONOS user with ${email} still belongs to deleted IdP user ${owner}; waiting for its removal`,
    );
  }
  throw new SyncConflictError(
    `IdP users ${owner} and ${idpId} both want the email ${email}; IONOS allows one user per email`,
  );
}

/** Deletes or deactivates the IONOS twin, per `onUserDeleted`; protected emails are kept. */
async function removeUser(
  ctx: SyncContext,
  wanted: WantedUser,
  twin: TwinRecord | undefined,
): Promise<SyncOutcome> {
  if (!twin?.ionosId) {
    // Never created or adopted: not ours to touch.
    if (twin) await ctx.records.forget("user", wanted.id);
    return { result: "nothing to remove" };
  }
  const current = await ctx.ionos.getUser(twin.ionosId);
  if (!current) {
    await ctx.records.forget("user", wanted.id, twin.ionosId);
    return { result: "already gone", ionosId: twin.ionosId };
  }
  if (isProtectedEmail(ctx.mapping, current.properties.email)) {
    await ctx.records.set("user", wanted.id, {
      state: "skipped",
      lastResult: "protected email: not removed",
      lastSyncAt: new Date().toISOString(),
    });
    return { result: "protected email: not removed", ionosId: current.id };
  }
  if (ctx.mapping.onUserDeleted === "deactivate") {
    if (current.properties.active) {
      await ctx.ionos.updateUser(current.id, { ...current.properties, active: false });
    }
    await ctx.records.set("user", wanted.id, {
      state: "synced",
      lastResult: "deactivated (deleted at the IdP)",
      lastSyncAt: new Date().toISOString(),
      lastError: "",
    });
    return { result: "deactivated", ionosId: current.id, changes: ["deactivated"] };
  }
  await ctx.ionos.deleteUser(current.id);
  await ctx.records.forget("user", wanted.id, current.id);
  ctx.logger.info("deleted IONOS user", { idpId: wanted.id, ionosId: current.id });
  return { result: "deleted", ionosId: current.id, changes: ["deleted"] };
}

/** The full IONOS property set the user should have (secAuthActive is kept as it is). */
function desiredProperties(
  ctx: SyncContext,
  wanted: WantedUser,
  admin: boolean,
  current: IonosUser | undefined,
): IonosUserProperties {
  return {
    ...desiredUser(ctx.mapping, wanted, admin, current?.properties),
    secAuthActive: current?.properties.secAuthActive ?? false,
  };
}

/** Whether the user's current groups make it an IONOS administrator (read once per job). */
async function isAdministratorUser(ctx: SyncContext, id: string): Promise<boolean> {
  if (ctx.mapping.administrators.length === 0) return false;
  const groupIds = await ctx.store.getUserGroups(id);
  return isAdministrator(ctx.mapping, groupIds, await ctx.store.getGroups(groupIds));
}
