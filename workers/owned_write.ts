/**
 * Writes to an IONOS user on behalf of the IdP user that holds it, and only while it does: a
 * job reads its record and the account, then writes; meanwhile the account may have been taken
 * over (its IdP user deleted, the account kept, the person re-created under a new id). Written
 * then, the old user's deactivation would land on the new owner after its job ran, or its
 * `administrator` flag or a group membership would be given to the new owner (a wrong grant).
 *
 * Design: each write runs under a Redis lease taken only while the IdP user holds the account
 * (src/targets/write_lease.ts), kept until the write's request is DONE (IONOS applies writes
 * seconds after the 202: `ctx.writes` under a worker; without one the call itself waited). The
 * take-over (`IonosRecords.handOver()`) waits while a lease is held, and the new owner reads the
 * account again after it, so it plans from every write of the old holder, landed. A write after
 * the take-over is not made: {@linkcode PassedOnError}.
 */
import type { SyncContext } from "./context.ts";

/** The IONOS user passed to another IdP user since this job read it: nothing was written. */
export class PassedOnError extends Error {
  override name = "PassedOnError";
  readonly retryable = false;

  constructor(readonly ionosId: string, readonly idpId: string) {
    super(`IONOS user ${ionosId} passed from IdP user ${idpId} to another one; left to its sync`);
  }
}

/**
 * Runs `write` (one or more IONOS writes to `ionosId`) only while `idpId` holds the account.
 *
 * @throws {PassedOnError} without writing, when `idpId` no longer holds it
 */
export async function ownedWrite<T>(
  ctx: Pick<SyncContext, "records" | "ionos" | "writes">,
  idpId: string,
  ionosId: string,
  write: () => Promise<T>,
): Promise<T> {
  const outcome = await ctx.records.whileHolding(idpId, ionosId, async () => {
    const before = ctx.writes?.requests.length ?? 0;
    const value = await write();
    // Sent without waiting (under a worker): the lease stays until these requests are DONE.
    // (Concurrent writes of the same job may be among them: held a little longer, no harm.)
    const sent = ctx.writes?.requests.slice(before) ?? [];
    return { value, landed: sent.length ? ctx.ionos.requestsSettled(sent) : undefined };
  });
  if (!outcome.held) throw new PassedOnError(ionosId, idpId);
  return outcome.value;
}
