/**
 * Brings one IONOS user in line with the IdP's wanted state: create (or adopt by email),
 * update, deactivate, reactivate, delete. Only users we created or adopted are ever changed, and
 * the safety rules of docs/security.md come first: protected accounts are never touched, one
 * account has one owner, and taking access away lands before anything else is tried.
 */
import { isProtectedEmail, normalizeEmail } from "../src/config/mapping.ts";
import { IonosApiError } from "../src/targets/ionos/errors.ts";
import type { IonosUser } from "../src/targets/ionos/types.ts";
import { enqueueSync } from "../src/queue/sync_queue.ts";
import type { IonosTwin } from "../src/targets/ionos/records.ts";
import { entityKey, type WantedUser } from "../src/store/wanted_state.ts";
import {
  accessReduction,
  deactivated,
  desiredUser,
  isAdministrator,
  protectedEmailConflict,
  userAdoptionRefusal,
  userDiff,
  userRemoval,
} from "../src/targets/ionos/decisions.ts";
import type { SyncContext, SyncOutcome } from "./context.ts";
import { SyncConflictError, WaitingForDependencyError } from "./errors.ts";
import { whileCreateSettles } from "./own_create.ts";
import { ownedWrite, PassedOnError } from "./owned_write.ts";
import { releaseBindings } from "./release_bindings.ts";
import { ownCreateConfirmed, settleWrites } from "./request_steps.ts";
import { generatePassword } from "./password.ts";
import { account, syncS3Keys } from "./sync_s3_keys.ts";

/**
 * Syncs the user with IdP id `id`.
 *
 * @throws {SyncConflictError} after applying everything it safely can, when the IdP wants what
 *   only a person can resolve (a protected email, an email another IdP user holds, an account
 *   the adoption policy refuses).
 * @example
 * await syncUser(ctx, "00u1"); // { result: "created", ionosId: "..." }
 */
export async function syncUser(ctx: SyncContext, id: string): Promise<SyncOutcome> {
  try {
    return await syncUserOnce(ctx, id);
  } catch (error) {
    // The account passed to another IdP user (a take-over) since this job read it: it wrote
    // nothing more to it, and leaves it to the new owner's sync (./owned_write.ts).
    if (error instanceof PassedOnError) return { result: error.message };
    throw error;
  }
}

async function syncUserOnce(ctx: SyncContext, id: string): Promise<SyncOutcome> {
  const wanted = await ctx.store.getUser(id);
  if (!wanted) return { result: "nothing wanted" };
  // A create whose answer was lost is ours whatever the IdP wants now (see withLostCreate).
  let twin = await withLostCreate(ctx, id, await ctx.records.get("user", id));
  // Our own create, sent by an earlier run that did not wait for it (or found after a lost
  // answer): once known DONE, the account is ours to use like any other.
  // A FAILED one needs nothing here: the twin stays "creating", the read below finds no user
  // and the plan creates it again (or, should it exist after all, confirms it as a lost answer).
  const ownCreateDone = await ownCreateConfirmed(ctx, "user", twin);
  if (ownCreateDone) twin = { ...twin, state: "synced" };
  if (wanted.deleted) return await removeUser(ctx, wanted, twin);
  const admin = await isAdministratorUser(ctx, id);
  const wantedEmail = normalizeEmail(wanted.email!);

  let current = twin?.ionosId ? await ctx.ionos.getUser(twin.ionosId) : undefined;
  if (current && isProtectedEmail(ctx.mapping, current.properties.email)) {
    return await skipProtected(ctx, id, current);
  }
  const changes: string[] = [];
  // Linked in this job, or found after a lost answer in an earlier one: its memberships wait.
  let linked = twin?.state === "creating" || ownCreateDone;
  let settling = twin?.state === "creating";
  let origin = twin?.origin;
  let found: Awaited<ReturnType<typeof linkOrCreateUser>> | undefined;
  if (!current) {
    // Deleted behind our back: that IONOS id is no longer ours to track.
    if (twin?.ionosId) await ctx.records.forget("user", id, twin.ionosId);
    const refusal = protectedEmailConflict(ctx.mapping, wantedEmail);
    if (refusal) throw new SyncConflictError(refusal);
    await claimEmail(ctx, id, wantedEmail, true);
    found = await linkOrCreateUser(ctx, wanted, twin, admin);
    current = found.user;
    changes.push(found.adoptedOwnCreate ? "created (found after a lost answer)" : found.origin);
    linked = true;
    settling = found.adoptedOwnCreate;
    origin = found.origin;
  }

  // The address must be free of protection and bound to this user (also for accounts linked
  // before bindings existed); if it is not, the account keeps its address and everything else
  // still follows the IdP.
  // (An account linked just now was found or created with the wanted email, claimed above.)
  const conflict = found ? undefined : protectedEmailConflict(ctx.mapping, wantedEmail) ??
    await claimEmail(ctx, id, wantedEmail, false) ??
    await emailTakenInIonos(ctx, current, wantedEmail);
  const email = conflict ? current.properties.email : wantedEmail;

  const desired = {
    ...desiredUser(ctx.mapping, wanted, admin, current.properties, email),
    secAuthActive: current.properties.secAuthActive,
  };
  const reduced = accessReduction(current.properties, desired);
  const ionosId = current.id;
  // IONOS refuses writes on an account whose create is not DONE: go on once it is.
  if (found?.createPending && (reduced || userDiff(current.properties, desired).length > 0)) {
    settleWrites(ctx, "a new account is DONE before it is written to");
  }
  if (reduced) {
    const taken = userDiff(current.properties, reduced).join(", ");
    current = await whileCreateSettles(
      settling,
      () => ownedWrite(ctx, id, ionosId, () => ctx.ionos.updateUser(ionosId, reduced)),
    );
    changes.push(`removed access (${taken})`);
  }
  // A deactivated account's S3 keys are closed right after it (they work outside federation).
  // Which ones were turned off is recorded, so that reactivation turns on only those.
  const settle = <T>(write: () => Promise<T>) =>
    whileCreateSettles(settling, () => ownedWrite(ctx, id, ionosId, write));
  // What was recorded belongs to the account the twin named, not to one linked in its place; an
  // account linked in this job may bring what its previous owner recorded (re-read).
  const keyRecord = {
    ionosId,
    s3KeysOff: found
      ? (await ctx.records.get("user", id))?.s3KeysOff
      : twin?.ionosId === ionosId
      ? twin.s3KeysOff
      : undefined,
  };
  const closeKeys = async (user: IonosUser) => {
    const off = { ...account(user), active: false };
    changes.push(...await syncS3Keys(ctx, id, off, keyRecord, settle));
  };
  // An account that is off now has its keys closed before anything else is tried; one that the
  // full write below turns off, right after it (so a key write never delays the deactivation).
  const keysAfterUpdate = !desired.active && current.properties.active;
  if (!desired.active && !keysAfterUpdate) await closeKeys(current);
  const diff = userDiff(current.properties, desired);
  // Removal wins: the reduction is DONE before anything else is written. The job goes on once
  // it is, planning again from the account as it then is (the reduction is then no change).
  if (reduced && diff.length > 0) settleWrites(ctx, "an access reduction lands first, alone");
  if (diff.length > 0 || (settling && !reduced)) {
    // IONOS has no PATCH: send the full property set, as the official tools do. Our own create
    // found after a lost answer is written to even when nothing differs: the write can only
    // land once that create is DONE, which confirms it (see ./own_create.ts).
    current = await whileCreateSettles(
      settling,
      () => ownedWrite(ctx, id, ionosId, () => ctx.ionos.updateUser(ionosId, desired)),
    );
    changes.push(diff.length ? `updated ${diff.join(", ")}` : "confirmed own create");
  }
  if (keysAfterUpdate) await closeKeys(current);
  // Keys turned off at deactivation come back only with the account, and only those.
  if (desired.active) {
    changes.push(...await syncS3Keys(ctx, id, account(current), keyRecord, settle));
  }
  // The account now has its final address: no other email stays bound to this user.
  await releaseBindings(ctx, "user", id, [normalizeEmail(current.properties.email)]);
  const result = changes.length ? changes.join("; ") : "in sync";
  // A create sent in this run and still running, or our own create after a lost answer whose
  // confirming write still runs, keeps the account "creating" (group jobs leave it out) until
  // the worker has seen this run's writes DONE (see afterDone below).
  const creating = found?.createPending === true || (settling && (ctx.writes?.size ?? 0) > 0);
  const state = conflict ? "conflict" : "synced";
  await ctx.records.set("user", id, {
    ionosId: current.id,
    label: current.properties.email,
    state: creating ? "creating" : state,
    lastSyncAt: new Date().toISOString(),
    lastResult: result,
    lastError: conflict ?? "",
    ...(twin?.request && !creating ? { request: "" } : {}),
  });
  let afterDone: SyncOutcome["afterDone"];
  if (linked) {
    // Memberships that waited for this user can now be applied; an adopted account may already
    // be in managed groups the IdP does not want it in, which those groups' jobs now remove.
    const groups = new Set(await ctx.store.getUserGroups(id));
    if (origin === "adopted") {
      const inIonos = await ctx.ionos.getUserGroups(current.id);
      for (const g of await ctx.records.ownersOf("group", inIonos.map((g) => g.id))) groups.add(g);
    }
    const keys = [...groups].map((g) => entityKey("group", g));
    // IONOS refuses members whose create is not DONE: the worker enqueues them once it is.
    if (creating) {
      afterDone = { record: { kind: "user", id, patch: { state, request: "" } }, enqueue: keys };
    } else await enqueueSync(ctx.queue, keys);
  }
  if (conflict) {
    throw new SyncConflictError(`${conflict} (the rest was applied: ${result})`, { afterDone });
  }
  return { result, ionosId: current.id, changes, afterDone };
}

/**
 * Claims the email for this IdP user. Returns the conflict (or throws it, with `fatal`) when
 * another live IdP user holds it; a deleted holder whose account is kept hands it over.
 */
async function claimEmail(
  ctx: SyncContext,
  idpId: string,
  email: string,
  fatal: boolean,
): Promise<string | undefined> {
  const claim = await ctx.emailOwners.claim(email, idpId);
  if (claim.held) return undefined;
  const other = await ctx.store.getUser(claim.owner);
  if (!other || other.deleted) {
    // The holder's own removal job releases the email once its account is deleted or
    // deactivated; until then this user waits rather than share the account.
    throw new WaitingForDependencyError(
      `${email} is still bound to deleted IdP user ${claim.owner}; waiting for its removal`,
    );
  }
  const message = `conflict: IdP user ${claim.owner} already holds ${email}; ` +
    `IONOS allows one account per email and it is bound to one IdP user`;
  if (fatal) throw new SyncConflictError(message);
  return message;
}

/**
 * An email change to an address another IONOS account already has would be refused (422): it is
 * a conflict a person resolves, found before the write (one lookup, only when the email changes).
 */
async function emailTakenInIonos(
  ctx: SyncContext,
  current: IonosUser,
  email: string,
): Promise<string | undefined> {
  if (normalizeEmail(current.properties.email) === email) return undefined;
  const holder = await ctx.ionos.findUserByEmail(email);
  if (!holder || holder.id === current.id) return undefined;
  return `conflict: IONOS user ${holder.id} already has ${email}; the account keeps ` +
    `${current.properties.email} until that is resolved in IONOS`;
}

/** Finds the IONOS user with the wanted email and adopts it, or creates one. */
async function linkOrCreateUser(
  ctx: SyncContext,
  wanted: WantedUser,
  twin: IonosTwin | undefined,
  admin: boolean,
): Promise<
  {
    user: IonosUser;
    origin: "created" | "adopted";
    adoptedOwnCreate: boolean;
    createPending?: boolean;
  }
> {
  const email = normalizeEmail(wanted.email!);
  const lookup = ctx.userLookup
    ? await ctx.userLookup.find(email)
    : { user: await ctx.ionos.findUserByEmail(email), fromListing: false };
  const existing = lookup.user;
  if (existing) {
    if (isProtectedEmail(ctx.mapping, existing.properties.email)) {
      throw new SyncConflictError(protectedEmailConflict(ctx.mapping, existing.properties.email));
    }
    const previous = await takeOverFromDeletedOwner(ctx, wanted.id, existing.id, email);
    let user = existing;
    if (previous) {
      // Taken over from a deleted IdP user, whose jobs may have written to it since the look-up
      // (none can now, and the hand-over waited until their writes were DONE): plan from the
      // account as it is now, or such a write (a deactivation, its administrator flag) stays.
      const now = await ctx.ionos.getUser(existing.id);
      if (!now) {
        throw new WaitingForDependencyError(
          `the IONOS user taken over was deleted since the look-up; looking again`,
        );
      }
      user = now;
    }
    // A "creating" mark from before marks named their email means our own create went
    // through but its answer was lost (marks with an email are resolved by withLostCreate).
    const own = twin?.state === "creating" && !twin.label;
    if (!own && !previous) {
      const refusal = userAdoptionRefusal(ctx.mapping, existing);
      if (refusal) throw new SyncConflictError(refusal);
    }
    const origin = own ? "created" : previous ?? twin?.origin ?? "adopted";
    // Our own create stays "creating" until a job has written to it (see ./own_create.ts).
    await ctx.records.set("user", wanted.id, {
      ionosId: existing.id,
      origin,
      state: own ? "creating" : "synced",
    });
    ctx.logger.info(own ? "found own user after lost answer" : "adopted existing IONOS user", {
      idpId: wanted.id,
      ionosId: existing.id,
    });
    return { user, origin, adoptedOwnCreate: own };
  }
  // The mark keeps the email the create is sent with: after a lost answer the retry looks the
  // account up by it, even if the IdP changed the email meanwhile.
  await ctx.records.set("user", wanted.id, { state: "creating", label: email });
  const props = desiredUser(ctx.mapping, wanted, admin, undefined, email);
  const user = await createUnlessListingWasStale(
    ctx,
    wanted.id,
    email,
    lookup.fromListing,
    () => ctx.ionos.createUser({ ...props, password: generatePassword() }),
  );
  // Sent without waiting (under a worker): the request is kept with the twin, which stays
  // "creating" until it is DONE, so that no run, not even after a crash, writes to it sooner.
  const request = ctx.writes?.requestFor(user.id);
  await ctx.records.set("user", wanted.id, {
    ionosId: user.id,
    origin: "created",
    state: request ? "creating" : "synced",
    ...(request ? { request: request.id, requestDate: request.serverDate ?? "" } : {}),
  });
  ctx.logger.info("created IONOS user", { idpId: wanted.id, ionosId: user.id });
  return { user, origin: "created", adoptedOwnCreate: false, createPending: !!request };
}

/**
 * A create after a lookup answered from a shared listing (./user_lookup.ts): a 422 may mean an
 * account with the email was made in IONOS after the listing, so the job waits and looks that
 * email up on its own, instead of failing for good.
 */
async function createUnlessListingWasStale(
  ctx: SyncContext,
  idpId: string,
  email: string,
  fromListing: boolean,
  create: () => Promise<IonosUser>,
): Promise<IonosUser> {
  try {
    return await create();
  } catch (error) {
    if (!fromListing || !(error instanceof IonosApiError) || error.status !== 422) throw error;
    ctx.userLookup?.distrust(email);
    // Refused, so not made: the "creating" mark must not make the retry take an account found
    // by this email for our own lost create (withLostCreate).
    await ctx.records.set("user", idpId, { state: "failed" });
    throw new WaitingForDependencyError(
      `create refused after a lookup from a user listing; looking ${email} up again`,
      { cause: error },
    );
  }
}

/**
 * An IONOS user another IdP user manages is taken over only from a deleted one whose account
 * was kept (deactivated): the IdP re-created the person under a new id. Returns the origin it
 * had, or `undefined` when no one manages it.
 */
async function takeOverFromDeletedOwner(
  ctx: SyncContext,
  idpId: string,
  ionosId: string,
  email: string,
): Promise<"created" | "adopted" | undefined> {
  const owner = await ctx.records.ownerOf("user", ionosId);
  if (owner === undefined || owner === idpId) return undefined;
  const other = await ctx.store.getUser(owner);
  const record = await ctx.records.get("user", owner);
  if (other && !other.deleted) {
    throw new SyncConflictError(
      `conflict: IdP users ${owner} and ${idpId} both want ${email}; IONOS allows one user per email`,
    );
  }
  if (userRemoval(ctx.mapping, record?.origin) === "delete") {
    throw new WaitingForDependencyError(
      `IONOS user with ${email} still belongs to deleted IdP user ${owner}; waiting for its removal`,
    );
  }
  // The keys the old owner's offboarding turned off come back when the account does.
  if (record?.s3KeysOff) await ctx.records.set("user", idpId, { s3KeysOff: record.s3KeysOff });
  if (!(await ctx.records.handOver(owner, ionosId))) {
    // A job of the deleted user is writing to it now (planned from its read): taken over
    // meanwhile, that write would land on the new owner after this job read the account.
    throw new WaitingForDependencyError(
      `IONOS user ${ionosId} is being written by a job of deleted IdP user ${owner}; waiting for it`,
    );
  }
  return record?.origin ?? "adopted";
}

/** Deprovisions the IONOS twin: deleted or deactivated per the mapping; protected ones kept. */
async function removeUser(
  ctx: SyncContext,
  wanted: WantedUser,
  twin: IonosTwin | undefined,
): Promise<SyncOutcome> {
  const done = async (result: string, patch: IonosTwin = {}): Promise<void> => {
    await ctx.records.set("user", wanted.id, {
      ...patch,
      lastResult: result,
      lastSyncAt: new Date().toISOString(),
    });
    // The account is gone or kept without an owner: its email may be bound anew.
    await releaseBindings(ctx, "user", wanted.id);
  };
  if (!twin?.ionosId) {
    // Never created or adopted: not ours to touch.
    if (twin) await ctx.records.forget("user", wanted.id);
    await releaseBindings(ctx, "user", wanted.id);
    return { result: "nothing to remove" };
  }
  const current = await ctx.ionos.getUser(twin.ionosId);
  if (!current) {
    await ctx.records.forget("user", wanted.id, twin.ionosId);
    await releaseBindings(ctx, "user", wanted.id);
    return { result: "already gone", ionosId: twin.ionosId };
  }
  if (isProtectedEmail(ctx.mapping, current.properties.email)) {
    await done("protected email: not removed", { state: "skipped" });
    return { result: "protected email: not removed", ionosId: current.id };
  }
  if (userRemoval(ctx.mapping, twin.origin) === "deactivate") {
    const off = deactivated(current.properties);
    const settling = twin.state === "creating";
    // Our own unconfirmed create is written to even when already off (see ./own_create.ts).
    const write = off ?? (settling ? current.properties : undefined);
    const owned = <T>(w: () => Promise<T>) =>
      whileCreateSettles(settling, () => ownedWrite(ctx, wanted.id, current.id, w));
    if (write) await owned(() => ctx.ionos.updateUser(current.id, write));
    const keys = await syncS3Keys(
      ctx,
      wanted.id,
      { id: current.id, email: current.properties.email, active: false },
      twin,
      owned,
    );
    // The account is off, and its keys closed, before its email may be bound to someone else.
    settleWrites(ctx, "a deactivation and its keys land before the email is released");
    await done("deactivated (deleted at the IdP)", { state: "synced", lastError: "" });
    return {
      result: "deactivated",
      ionosId: current.id,
      changes: [...(off ? ["deactivated"] : []), ...keys],
    };
  }
  await whileCreateSettles(
    twin.state === "creating",
    () => ownedWrite(ctx, wanted.id, current.id, () => ctx.ionos.deleteUser(current.id)),
  );
  // Gone before its email may be bound to someone else (the next run finds it gone).
  settleWrites(ctx, "a delete lands before the email is released");
  await ctx.records.forget("user", wanted.id, current.id);
  await releaseBindings(ctx, "user", wanted.id);
  ctx.logger.info("deleted IONOS user", { idpId: wanted.id, ionosId: current.id });
  return { result: "deleted", ionosId: current.id, changes: ["deleted"] };
}

/**
 * A create whose answer was lost may still have made the account: the "creating" mark names the
 * email it was sent with, and an unmanaged account with that email is ours, to deprovision like
 * any other (else it would be left behind, active, with no owner).
 */
async function withLostCreate(
  ctx: SyncContext,
  idpId: string,
  twin: IonosTwin | undefined,
): Promise<IonosTwin | undefined> {
  if (!twin || twin.ionosId || twin.state !== "creating" || !twin.label) return twin;
  const lost = await ctx.ionos.findUserByEmail(twin.label);
  if (!lost || await ctx.records.ownerOf("user", lost.id) !== undefined) return twin;
  await ctx.records.set("user", idpId, { ionosId: lost.id, origin: "created" });
  return { ...twin, ionosId: lost.id, origin: "created" };
}

/** A protected account is never changed; the record says why nothing happened. */
async function skipProtected(
  ctx: SyncContext,
  id: string,
  current: IonosUser,
): Promise<SyncOutcome> {
  const result = "protected email: not changed";
  await ctx.records.set("user", id, {
    state: "skipped",
    lastResult: result,
    lastSyncAt: new Date().toISOString(),
  });
  return { result, ionosId: current.id };
}

/** Whether the user's current groups make it an IONOS administrator (read once per job). */
async function isAdministratorUser(ctx: SyncContext, id: string): Promise<boolean> {
  if (ctx.mapping.administrators.length === 0) return false;
  const groupIds = await ctx.store.getUserGroups(id);
  return isAdministrator(ctx.mapping, groupIds, await ctx.store.getGroups(groupIds));
}
