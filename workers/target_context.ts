/** What a non-IONOS target's sync step needs: the wanted state, its links, its client, its queue. */
import type { Queue } from "bullmq";
import { isProtectedEmail, type Mapping } from "../src/config/mapping.ts";
import type { Logger } from "../src/log.ts";
import type { TargetJobData } from "../src/queue/target_queue.ts";
import type { WantedGroup, WantedStateStore } from "../src/store/wanted_state.ts";
import type { TargetLinks } from "../src/targets/links.ts";
import {
  claimFoundAccount,
  claimFoundGroup,
  deletedHolderRemoves,
  type FoundAccountClaim,
} from "../src/targets/take_over.ts";
import { SyncConflictError, WaitingForDependencyError } from "./errors.ts";

export interface TargetSyncContext<Client> {
  store: WantedStateStore;
  links: TargetLinks;
  mapping: Mapping;
  client: Client;
  /** This target's own queue, for follow-up jobs. */
  queue: Queue<TargetJobData>;
  logger: Logger;
}

/** What a target step did: the job's return value, and the twin record's `result`. */
export interface TargetOutcome {
  result: string;
  targetId?: string | undefined;
  changes: string[];
}

/** The display names of the live IdP groups a user is in. */
export async function groupNamesOf(store: WantedStateStore, userId: string): Promise<string[]> {
  const ids = await store.getUserGroups(userId);
  const groups = await store.getGroups(ids);
  return [...groups.values()].filter((g) => !g.deleted).map((g) => g.displayName);
}

/**
 * A user found by email may already be another IdP user's (the managed index says whose): one
 * account never gets two owners. `claimFoundAccount()` decides (reconcile's plans ask it too);
 * this reads its facts and acts. Returns `undefined` when nobody holds it (the adoption rules
 * decide), or the origin to take it over with when its holder was deleted in the IdP and the
 * target keeps a deleted user's account (the same person re-created under a new id: the old
 * link is dropped first, so the old user's own job cannot later delete or disable what the new
 * one now holds).
 *
 * @throws {SyncConflictError} when a live IdP user with this email holds it
 * @throws {WaitingForDependencyError} when its live holder wants another email now, or its
 *   deleted holder's job removes it (Cloudflare): that job moves the account away (or off, or
 *   removes it), then this one finds it free or gone
 */
export async function takeOverFound(
  ctx: Pick<TargetSyncContext<unknown>, "store" | "links" | "mapping">,
  idpId: string,
  targetId: string,
  email: string,
): Promise<"created" | "adopted" | undefined> {
  const holder = await ctx.links.holderOf("user", targetId);
  if (!holder || holder === idpId) return undefined;
  const [holderUser, holderLink] = await Promise.all([
    ctx.store.getUser(holder),
    ctx.links.get("user", holder),
  ]);
  const claim = claimFoundAccount({
    target: ctx.links.target,
    idpId,
    targetId,
    email,
    holder,
    holderUser,
    holderLink,
    holderKeepsAddress: isProtectedEmail(ctx.mapping, holderUser?.email),
    holderRemoves: deletedHolderRemoves(ctx.links.target, "user"),
  });
  return await actOnClaim(ctx, "user", holder, targetId, claim);
}

/**
 * After a create whose answer was lost (a `creating` mark on the link), what to make of `found`,
 * the object that now has the mark's email or name: it is this IdP entity's own, even if the IdP
 * changed or deleted the entity since, unless another IdP entity manages it. Another job may
 * have made one with that email or name meanwhile, when this create was not applied after all
 * (a 5xx before the write); taking that for our own bound one account to two IdP users (model
 * test, contabo seed 36). Links `found` as created, or ends the mark.
 *
 * @returns `found` when it is ours, else undefined
 */
export async function claimLostCreate<T>(
  ctx: Pick<TargetSyncContext<unknown>, "links">,
  kind: "user" | "group",
  idpId: string,
  found: T | undefined,
  idOf: (object: T) => string,
): Promise<T | undefined> {
  if (found) {
    const holder = await ctx.links.holderOf(kind, idOf(found));
    if (!holder || holder === idpId) {
      await ctx.links.link(kind, idpId, idOf(found), "created");
      return found;
    }
  }
  await ctx.links.clearCreating(kind, idpId);
  return undefined;
}

/**
 * A group found by name may already be another IdP group's: `claimFoundGroup` decides (one
 * target group never serves two IdP groups), and this acts on it, like
 * {@linkcode takeOverFound} for users.
 *
 * @param holderWantsName whether the holding IdP group still wants a group of this name
 * @returns `undefined` when nobody holds it, or the origin to take it over with when its holder
 *   was deleted in the IdP and its link no longer names the group
 * @throws {SyncConflictError} when a live IdP group holds it and wants that name, or its own
 *   sync is in conflict
 * @throws {WaitingForDependencyError} when its live holder wants another name now, or its
 *   deleted holder's job deletes or releases it
 */
export async function takeOverFoundGroup(
  ctx: Pick<TargetSyncContext<unknown>, "store" | "links">,
  idpId: string,
  targetId: string,
  name: string,
  holderWantsName: (holder: WantedGroup) => boolean,
): Promise<"created" | "adopted" | undefined> {
  const holder = await ctx.links.holderOf("group", targetId);
  if (!holder || holder === idpId) return undefined;
  const [other, holderLink] = await Promise.all([
    ctx.store.getGroup(holder),
    ctx.links.get("group", holder),
  ]);
  const alive = !!other && !other.deleted;
  const claim = claimFoundGroup({
    target: ctx.links.target,
    idpId,
    targetId,
    name,
    holder,
    holderAlive: alive,
    holderWantsName: alive && holderWantsName(other!),
    holderLink,
    holderRemoves: deletedHolderRemoves(ctx.links.target, "group"),
  });
  return await actOnClaim(ctx, "group", holder, targetId, claim);
}

/**
 * Does what a claim on a found object says: a conflict or a wait is thrown; a take-over drops
 * the deleted holder's link first, so its own job cannot later touch what passes on (its writes
 * go through `TargetLinks.whileHolding()`, which then refuses), and waits while that job is
 * writing to it.
 */
async function actOnClaim(
  ctx: Pick<TargetSyncContext<unknown>, "links">,
  kind: "user" | "group",
  holder: string,
  targetId: string,
  claim: FoundAccountClaim,
): Promise<"created" | "adopted" | undefined> {
  if (claim.kind === "conflict") throw new SyncConflictError(claim.reason);
  if (claim.kind === "wait") throw new WaitingForDependencyError(claim.reason);
  if (claim.kind === "free") return undefined;
  if (!(await ctx.links.handOver(kind, holder, targetId))) {
    // The deleted holder's job is writing to it now (a disable it planned from its read):
    // taken over meanwhile, that write would land on the new owner after its job read the
    // account. Once the write is done, the retry takes it over and reads it as it is then.
    throw new WaitingForDependencyError(
      `${ctx.links.target} ${kind} ${targetId} is being written by the job of deleted IdP ` +
        `${kind} ${holder}; waiting for it`,
    );
  }
  return claim.origin;
}
