/**
 * A digest of everything in Redis a sync step plans from. A job waiting with its slot given back
 * is delayed, not active, and BullMQ drops an add for an entity whose job is delayed (the
 * de-duplication keeps a follow-up only for an active job, see src/queue/sync_queue.ts). The job
 * therefore compares this digest from before its run with the one at its end: if anything the
 * plan read has changed, it runs the step again instead of finishing, so no change is lost.
 * Reconcile's asks (IONOS drift, not a wanted-state change) count too, through the entity's
 * nudge time (`IonosRecords.nudge`). Only Redis is read, never IONOS.
 */
import type { SyncJobData } from "../src/queue/sync_queue.ts";
import type { SyncContext } from "./context.ts";

type Stores = Pick<SyncContext, "store" | "records">;

/**
 * @example
 * const before = await wantedFingerprint(ctx, "user", "00u1");
 * // ... later, with the job resumed:
 * if (before !== await wantedFingerprint(ctx, "user", "00u1")) rerun();
 */
export async function wantedFingerprint(
  ctx: Stores,
  kind: SyncJobData["kind"],
  id: string,
): Promise<string> {
  const [parts, nudged] = await Promise.all([
    kind === "user" ? userParts(ctx, id) : groupParts(ctx, id),
    ctx.records.nudgedAt(`${kind}:${id}`),
  ]);
  parts.push(nudged ?? null);
  const bytes = new TextEncoder().encode(JSON.stringify(parts));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The user, its groups and their names (administrator rights follow group names). */
async function userParts(ctx: Stores, id: string): Promise<unknown[]> {
  const [user, groupIds] = await Promise.all([ctx.store.getUser(id), ctx.store.getUserGroups(id)]);
  const groups = await ctx.store.getGroups(groupIds);
  return [
    user ?? null,
    [...groupIds].sort().map((g) => [g, groups.get(g)?.displayName, groups.get(g)?.deleted]),
  ];
}

/** The group, its members, whether each is alive and whether its IONOS user exists yet. */
async function groupParts(ctx: Stores, id: string): Promise<unknown[]> {
  const [group, members] = await Promise.all([ctx.store.getGroup(id), ctx.store.getMembers(id)]);
  const sorted = [...members].sort();
  const [users, twins] = await Promise.all([
    ctx.store.getUsers(sorted),
    ctx.records.fieldsOf("user", sorted, ["ionosId", "state", "label"]),
  ]);
  return [
    group ?? null,
    sorted.map((u, i) => {
      const twin = twins[i];
      return [u, users.get(u)?.deleted, twin?.ionosId, twin?.state, twin?.label];
    }),
  ];
}
