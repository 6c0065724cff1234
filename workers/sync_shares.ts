/**
 * Brings a group's resource shares in line with the mapping (`groups.shares`): shares the
 * mapping names are created or changed, and shares the service set that the mapping no longer
 * names are removed (or, for a share made by hand that the mapping took over, put back as it
 * was). A share the service did not set is never written. What it set is kept in the group's
 * twin record (`managedShares`), written before any write that sets a share, so a retry after a
 * lost answer still knows the share is its own.
 */
import { groupShares } from "../src/targets/ionos/mapping.ts";
import type { SyncContext } from "./context.ts";
import { settleWrites } from "./request_steps.ts";
import {
  formatRecordedShares,
  parseRecordedShares,
  shareChanges,
  type ShareFlags,
  type ShareWrite,
} from "../src/targets/ionos/access_decisions.ts";

/** What a share sync did. */
export interface ShareSyncResult {
  /** Short lines for the job result, e.g. "removed 1 share". */
  changes: string[];
  /**
   * Wanted resources `GET /um/resources` does not list, as one message naming the group and
   * the ids, or `undefined`. The rest of the group is synced; the caller reports it.
   */
  unknownResources?: string | undefined;
}

/**
 * Syncs the shares of IONOS group `ionosGroupId`, twin of IdP group `idpId`.
 *
 * @param groupName the IdP group's name (the mapping's key); `undefined` when the group's access
 *   is ending, which removes every share the service set
 * @param whileSettling wraps each write (see ./own_create.ts)
 */
export async function syncShares(
  ctx: SyncContext,
  idpId: string,
  ionosGroupId: string,
  groupName: string | undefined,
  recorded: string | undefined,
  whileSettling: <T>(write: () => Promise<T>) => Promise<T> = (w) => w(),
): Promise<ShareSyncResult> {
  const wanted = groupName === undefined ? [] : groupShares(ctx.mapping, groupName);
  const previous = parseRecordedShares(recorded);
  // Nothing wanted and nothing set before: no call at all (most groups).
  if (wanted.length === 0 && previous.size === 0) return { changes: [] };

  const actual = new Map<string, ShareFlags>(
    (await ctx.ionos.listGroupShares(ionosGroupId)).map((s) => [
      s.id.toLowerCase(),
      { edit: s.properties.editPrivilege, share: s.properties.sharePrivilege },
    ]),
  );
  // Resources are checked only when a share is to be created (a listed share's resource exists).
  const missing = wanted.some((w) => !actual.has(w.resource));
  const known = missing
    ? new Set((await ctx.ionos.listResources()).map((r) => r.id.toLowerCase()))
    : undefined;
  const plan = shareChanges(wanted, actual, previous, known);

  const save = async (record: string) => {
    if (record !== (recorded ?? "")) {
      await ctx.records.set("group", idpId, { managedShares: record });
      recorded = record;
    }
  };
  await save(formatRecordedShares(plan.recordBefore));
  const write = (w: ShareWrite) =>
    whileSettling(() =>
      w.op === "delete"
        ? ctx.ionos.removeGroupShare(ionosGroupId, w.resource)
        : w.op === "create"
        ? ctx.ionos.addGroupShare(ionosGroupId, w.resource, w.flags!)
        : ctx.ionos.updateGroupShare(ionosGroupId, w.resource, w.flags!)
    );
  // Removal wins: every reduction lands before any grant is tried. Under a worker, writes are
  // sent without waiting (workers/request_steps.ts): the job stops here until the shares taken
  // away are DONE, and plans again. Grants also wait for anything still running from this run
  // (member removals, privileges taken away), so no member about to go sees a resource shared.
  for (const w of plan.reduce) await write(w);
  if (plan.reduce.length > 0) {
    settleWrites(ctx, "shares taken away land before anything is granted");
  }
  if (plan.grant.length > 0) settleWrites(ctx, "removals land before a resource is shared");
  for (const w of plan.grant) await write(w);
  await save(formatRecordedShares(plan.recordAfter));

  const changes: string[] = [];
  const removed = plan.reduce.filter((w) => w.op === "delete").length;
  const lowered = plan.reduce.length - removed;
  const created = plan.grant.filter((w) => w.op === "create").length;
  const raised = plan.grant.length - created;
  if (removed) changes.push(`removed ${plural(removed, "share")}`);
  if (lowered) changes.push(`lowered ${plural(lowered, "share")}`);
  if (created) changes.push(`shared ${plural(created, "resource")}`);
  if (raised) changes.push(`raised ${plural(raised, "share")}`);
  const unknownResources = plan.unknown.length
    ? `conflict: group "${groupName}" (IdP ${idpId}) is given unknown IONOS resource` +
      `${plan.unknown.length === 1 ? "" : "s"} ${plan.unknown.join(", ")} ` +
      `(not in GET /um/resources); fix groups.shares in the mapping`
    : undefined;
  return { changes, unknownResources };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
