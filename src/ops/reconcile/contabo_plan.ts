/**
 * Contabo's drift report: for every wanted (or managed) user, what `planContaboUser` — the
 * decision the Contabo worker makes — answers against the users Contabo holds now, in words;
 * and every Contabo user the sync does not manage, reported and never touched. Pure: the
 * snapshots are read by target_snapshot.ts.
 */
import { isProtectedEmail, type Mapping, normalizeEmail } from "../../config/mapping.ts";
import type { EntityKey } from "../../store/wanted_state.ts";
import type { ContaboUpdateUserBody, ContaboUser } from "../../targets/contabo/api.ts";
import {
  contaboAdopts,
  type ContaboChange,
  contaboLooksUpByEmail,
  planContaboUser,
} from "../../targets/contabo/decisions.ts";
import {
  claimIn,
  finishPlan,
  groupNamesIn,
  heldByAnother,
  idsToPlan,
  itemFor,
  openingItems,
  show,
  startingPoint,
  type TargetPlan,
  type TargetPlanAction,
  type TargetPlanItem,
  type TargetTwins,
  type WantedView,
} from "./target_plan.ts";

/** What reconcile read of Contabo. */
export interface ContaboSnapshot {
  /** Every user, by `userId`, in listing order. */
  users: Map<string, ContaboUser>;
}

/**
 * @example
 * const plan = planContaboDrift(mapping, wanted, twins, { users });
 * plan.counts.create; // 1
 */
export function planContaboDrift(
  mapping: Mapping,
  wanted: WantedView,
  twins: TargetTwins,
  contabo: ContaboSnapshot,
): TargetPlan {
  // As `findUserByEmail`: the first user listed with exactly this email, case aside.
  const byEmail = new Map<string, ContaboUser>();
  for (const u of contabo.users.values()) {
    const key = normalizeEmail(u.email.trim());
    if (!byEmail.has(key)) byEmail.set(key, u);
  }
  const items: TargetPlanItem[] = [];
  const adopted = new Set<string>();
  for (const idpId of idsToPlan(wanted.users, twins.managedUsers)) {
    const user = wanted.users.get(idpId);
    const { current, origin, gone, claim, marked } = startingPoint(
      twins.users.get(idpId),
      contabo.users,
      (email) => byEmail.get(normalizeEmail(email.trim())),
      contaboLooksUpByEmail(user) ? user!.email : undefined,
      (u) => claimIn(mapping, "contabo", wanted, twins, idpId, u.userId, u.email),
      (u) => heldByAnother(twins.managedUsers, idpId, u.userId),
    );
    const facts = {
      mapping,
      section: mapping.contabo,
      wanted: user,
      groupNames: groupNamesIn(wanted, idpId),
      current,
      origin,
    };
    const plan = planContaboUser(facts);
    const entity: EntityKey = `user:${idpId}`;
    const label = user?.email ?? current?.email ?? idpId;
    const item = itemFor(entity, label);
    // As the worker: an account another IdP user holds is a conflict or a wait, before any plan.
    const start = { origin, claim, marked };
    if (
      !openingItems(start, plan.conflict, current?.userId, "Contabo user", item, {
        items,
        adopted,
      })
    ) continue;
    if (contaboAdopts(facts, plan)) {
      adopted.add(current!.userId);
      items.push(item("adopt", `unmanaged Contabo user ${current!.userId} has this email`));
    }
    // Each update is told against the user as the one before it left it (access first).
    let now = current;
    for (const change of plan.changes) {
      items.push(...describe(change, now, gone, user === undefined || user.deleted, item));
      if (change.op === "update" && now) now = { ...now, ...change.patch };
    }
  }
  for (const u of contabo.users.values()) {
    if (twins.managedUsers.has(u.userId) || adopted.has(u.userId)) continue;
    const why = u.owner
      ? "account owner: never changed by the sync"
      : isProtectedEmail(mapping, u.email)
      ? "protected email: never changed by the sync"
      : "not managed by the sync: left as it is";
    items.push({ action: "unmanaged", label: u.email, detail: why, targetId: u.userId });
  }
  return finishPlan("contabo", items);
}

/** One planned call in words; an update may say several things (access first, as it runs). */
function describe(
  change: ContaboChange,
  current: ContaboUser | undefined,
  gone: string | undefined,
  deletedAtIdp: boolean,
  item: (action: TargetPlanAction, detail: string, targetId?: string) => TargetPlanItem,
): TargetPlanItem[] {
  if (change.op === "create") {
    const roles = change.body.roles.length ? `, roles ${change.body.roles.join(", ")}` : "";
    const why = gone ? `Contabo user ${gone} is gone (deleted outside the sync)` : "not in Contabo";
    return [item("create", `${why}${roles}`)];
  }
  if (change.op === "delete") {
    return [item(
      "delete",
      deletedAtIdp ? "deleted at the IdP" : "no longer known to the IdP",
      change.userId,
    )];
  }
  const out: TargetPlanItem[] = [];
  const { enabled, roles, ...fields } = change.patch as ContaboUpdateUserBody;
  if (enabled !== undefined) {
    out.push(item(enabled ? "reactivate" : "deactivate", "enabled", change.userId));
  }
  if (roles) {
    const before = current?.roles ?? [];
    const added = roles.filter((r) => !before.includes(r));
    const removed = before.filter((r) => !roles.includes(r));
    if (removed.length) out.push(item("remove-role", `roles ${removed.join(", ")}`, change.userId));
    if (added.length) out.push(item("add-role", `roles ${added.join(", ")}`, change.userId));
  }
  const diff = Object.entries(fields).map(([k, v]) =>
    `${k}: ${show(current?.[k as keyof ContaboUser])} -> ${show(v)}`
  );
  if (diff.length) out.push(item("update", diff.join(", "), change.userId));
  return out;
}
