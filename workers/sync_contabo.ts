/**
 * The Contabo sync steps: one IdP user -> one Contabo user, with the changes
 * `src/targets/contabo/decisions.ts` plans. Contabo has no groups: a group job only re-syncs
 * the users who are or were its members, since their roles follow from its name.
 */
import { normalizeEmail } from "../src/config/mapping.ts";
import { TargetApiError } from "../src/targets/errors.ts";
import { enqueueTargetSyncs } from "../src/queue/target_queue.ts";
import type { ContaboUser } from "../src/targets/contabo/api.ts";
import type { ContaboClient } from "../src/targets/contabo/client.ts";
import {
  contaboAdopts,
  contaboLooksUpByEmail,
  planContaboUser,
} from "../src/targets/contabo/decisions.ts";
import { SyncConflictError, WaitingForDependencyError } from "./errors.ts";
import {
  claimLostCreate,
  groupNamesOf,
  takeOverFound,
  type TargetOutcome,
  type TargetSyncContext,
} from "./target_context.ts";

export type ContaboSyncContext = TargetSyncContext<ContaboClient>;

/** Brings one IdP user's Contabo user in step. @throws {SyncConflictError} when a person must act */
export async function syncContaboUser(
  ctx: ContaboSyncContext,
  idpId: string,
): Promise<TargetOutcome> {
  const { store, links, client, mapping } = ctx;
  const [wanted, link, groupNames] = await Promise.all([
    store.getUser(idpId),
    links.get("user", idpId),
    groupNamesOf(store, idpId),
  ]);
  let current: ContaboUser | undefined;
  let origin = link.origin;
  if (link.targetId) {
    current = await client.getUser(link.targetId);
    if (!current) {
      // Deleted in Contabo by a person: forget it, and decide afresh below.
      await links.unlink("user", idpId, link.targetId);
      origin = undefined;
    }
  }
  if (!current && link.creating) {
    // Our own create's answer was lost (a 5xx after the write, a killed worker).
    const found = await client.findUserByEmail(link.creating);
    current = await claimLostCreate(ctx, "user", idpId, found, (u) => u.userId);
    if (current) origin = "created";
  }
  if (!current && contaboLooksUpByEmail(wanted)) {
    current = await client.findUserByEmail(wanted!.email!);
    origin = current
      ? await takeOverFound(ctx, idpId, current.userId, current.email).catch(async (e) => {
        if (e instanceof SyncConflictError) {
          await links.record("user", idpId, { state: "conflict", result: "conflict" });
        }
        throw e;
      })
      : undefined;
    if (current && origin) {
      await links.link("user", idpId, current.userId, origin);
      // Taken over from a deleted IdP user, whose job may have written to it between this
      // job's look-up and the take-over (it cannot once the take-over is done, nor while it
      // waits for a write under way): plan from the account as it is now, or that write (a
      // disable, or the old user's roles) would stay (see TargetLinks.whileHolding()).
      const takenId = current.userId;
      current = await client.getUser(takenId);
      if (!current) {
        await links.unlink("user", idpId, takenId);
        throw new WaitingForDependencyError(
          "the Contabo user taken over was deleted since the look-up; looking again",
        );
      }
    }
  }
  const plan = planContaboUser({
    mapping,
    section: mapping.contabo,
    wanted,
    groupNames,
    current,
    origin,
  });
  if (plan.conflict) {
    await links.record("user", idpId, { state: "conflict", result: "conflict" });
    throw new SyncConflictError(plan.conflict);
  }
  if (contaboAdopts({ wanted, current, origin }, plan)) {
    // Found by email and the rules allow it: from now on the sync manages this user.
    await links.link("user", idpId, current!.userId, "adopted");
  }
  const done: string[] = [];
  let targetId = current?.userId;
  /**
   * Set when the user passed to another IdP user since this job read it (taken over: this
   * user was deleted at the IdP, the person re-created): nothing more is written to it.
   */
  let passedOn: string | undefined;
  for (const change of plan.changes) {
    if (change.op === "create") {
      const created = await links.creating(
        "user",
        idpId,
        normalizeEmail(change.body.email),
        () => client.createUser(change.body),
      ).catch((e) => {
        // Contabo refuses a taken email (409): another IdP user's job created it since the
        // look-up. Retried, this job looks again and finds it (another's: a conflict or a wait),
        // as Cloudflare's worker does with a taken invitation.
        if (e instanceof TargetApiError && e.status === 409) {
          throw new WaitingForDependencyError(
            `a Contabo user with this email appeared since the look-up: ${e.message}`,
            { cause: e },
          );
        }
        throw e;
      });
      targetId = created.userId;
      await links.link("user", idpId, created.userId, "created");
      done.push(`created ${created.userId}`);
    } else if (change.op === "update") {
      const held = await links.whileHolding(
        "user",
        idpId,
        change.userId,
        () =>
          client.updateUser(change.userId, change.patch).catch(async (e) => {
            // Contabo refuses an email another user has (409): only a person can sort that out.
            if (e instanceof TargetApiError && e.status === 409 && change.patch.email) {
              await links.record("user", idpId, { state: "conflict", result: "conflict" });
              throw new SyncConflictError(
                `conflict: another Contabo user already has ${change.patch.email}`,
                { cause: e },
              );
            }
            // 404: the user was deleted since the look-up (by a person, or by the job of an IdP
            // user it passed from). Retried, the job reads again and decides afresh (model test,
            // contabo seed 43).
            if (e instanceof TargetApiError && e.status === 404) {
              throw new WaitingForDependencyError(
                `the Contabo user was deleted since the look-up: ${e.message}`,
                { cause: e },
              );
            }
            throw e;
          }),
      );
      if (!held) {
        passedOn = change.userId;
        break;
      }
      done.push(
        `${change.reduction ? "reduced" : "updated"} ${Object.keys(change.patch).join(",")}`,
      );
    } else {
      const held = await links.whileHolding(
        "user",
        idpId,
        change.userId,
        () => client.deleteUser(change.userId),
      );
      if (!held) {
        passedOn = change.userId;
        break;
      }
      await links.unlink("user", idpId, change.userId);
      targetId = undefined;
      done.push(`deleted ${change.userId}`);
    }
  }
  if (passedOn) {
    done.push(`Contabo user ${passedOn} passed to another IdP user; left to its sync`);
    targetId = undefined;
  }
  const result = done.length ? done.join("; ") : plan.note ?? "in step";
  await links.record("user", idpId, {
    state: "ok",
    result,
    lastSyncAt: new Date().toISOString(),
  });
  return { result, changes: done, targetId: targetId || undefined };
}

/** A group changed: every user who is or was in it may hold other roles now. */
export async function syncContaboGroup(
  ctx: ContaboSyncContext,
  idpId: string,
): Promise<TargetOutcome> {
  const users = await ctx.store.getMemberHistory(idpId);
  await enqueueTargetSyncs([ctx.queue], users.map((id) => `user:${id}` as const));
  return { result: `re-syncing ${users.length} member(s)`, changes: [] };
}
