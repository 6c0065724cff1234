/**
 * Releasing what an entity no longer holds (docs/security.md, "One account, one owner"): the
 * emails of a user, the group name of a linking group. Entities that lost a claim on a released
 * value are synced again, so their conflict or wait ends once its cause is gone.
 */
import { enqueueSync } from "../src/queue/sync_queue.ts";
import { entityKey } from "../src/store/wanted_state.ts";
import type { SyncContext } from "./context.ts";

/**
 * Releases every value `kind` entity `id` holds but `keep`, and enqueues the waiters.
 *
 * @example
 * await releaseBindings(ctx, "user", "00u1", ["ada@example.com"]);
 */
export async function releaseBindings(
  ctx: SyncContext,
  kind: "user" | "group",
  id: string,
  keep: string[] = [],
): Promise<void> {
  const bindings = kind === "user" ? ctx.emailOwners : ctx.groupNameOwners;
  const waiters = await bindings.releaseAllBut(id, keep);
  await enqueueSync(ctx.queue, waiters.map((w) => entityKey(kind, w)));
}
