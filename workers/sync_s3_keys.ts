/**
 * S3 keys are long-lived credentials that work outside federation: deactivating an IONOS user
 * without them leaves a way in. While a managed account is deactivated, its keys follow
 * `offboarding.s3Keys` (turned off, deleted, or kept) on every sync, so a key turned on again by
 * hand is drift that the next sync undoes. When the account is active again, only the keys the
 * service turned off (recorded in the user's twin record, `s3KeysOff`, before the writes) are
 * turned on again. Protected and unmanaged accounts are never asked about.
 */
import { IonosApiError } from "../src/targets/ionos/errors.ts";
import type { IonosUser } from "../src/targets/ionos/types.ts";
import type { SyncContext } from "./context.ts";
import {
  mayTouchS3Keys,
  parseRecordedKeys,
  s3KeyChanges,
} from "../src/targets/ionos/access_decisions.ts";

/**
 * Syncs the S3 keys of IONOS user `ionosId`, twin of IdP user `idpId`.
 *
 * @param account the account as it is now in IONOS (after this job's writes)
 * @param recorded the twin record's `ionosId` and `s3KeysOff`
 * @returns short lines for the job result, e.g. "deactivated 2 S3 keys"
 */
export async function syncS3Keys(
  ctx: SyncContext,
  idpId: string,
  account: { id: string; email: string; active: boolean },
  recorded: { ionosId?: string | undefined; s3KeysOff?: string | undefined },
  whileSettling: <T>(write: () => Promise<T>) => Promise<T> = (w) => w(),
): Promise<string[]> {
  // The caller only gets here for managed accounts; asked again so no path can skip the rule.
  if (!mayTouchS3Keys(ctx.mapping, recorded.ionosId, account.id, account.email)) return [];
  const previous = parseRecordedKeys(recorded.s3KeysOff);
  const policy = ctx.mapping.offboarding.s3Keys;
  // An active account with nothing to turn back on has nothing to do: no call.
  if (account.active && previous.length === 0) return [];
  const keys = await ctx.ionos.listS3Keys(account.id);
  const plan = s3KeyChanges(policy, account.active, keys, previous);

  let saved = previous.join(",");
  const save = async (ids: string[]) => {
    const value = ids.join(",");
    if (value === saved) return;
    await ctx.records.set("user", idpId, { s3KeysOff: value });
    saved = value;
  };
  await save(plan.recordBefore);
  // A key deleted since the listing has nothing left to close or reopen: its 404 is done.
  const write = (run: () => Promise<void>) => whileSettling(() => goneIsDone(run));
  for (const keyId of plan.deactivate) {
    await write(() => ctx.ionos.setS3KeyActive(account.id, keyId, false));
  }
  for (const keyId of plan.delete) await write(() => ctx.ionos.deleteS3Key(account.id, keyId));
  for (const keyId of plan.activate) {
    await write(() => ctx.ionos.setS3KeyActive(account.id, keyId, true));
  }
  await save(plan.recordAfter);

  const changes: string[] = [];
  if (plan.deactivate.length) changes.push(`deactivated ${keys_(plan.deactivate.length)}`);
  if (plan.delete.length) changes.push(`deleted ${keys_(plan.delete.length)}`);
  if (plan.activate.length) changes.push(`reactivated ${keys_(plan.activate.length)}`);
  return changes;
}

const keys_ = (n: number) => `${n} S3 key${n === 1 ? "" : "s"}`;

/** The account facts {@linkcode syncS3Keys} reads, from an IONOS user. */
export function account(user: IonosUser): { id: string; email: string; active: boolean } {
  return { id: user.id, email: user.properties.email, active: user.properties.active };
}

async function goneIsDone(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof IonosApiError && error.status === 404) return;
    throw error;
  }
}
