/**
 * Cloudflare's drift report: for every wanted (or managed) user and group, what the Cloudflare
 * decisions — the functions its worker calls — answer against the account members, user
 * groups and group members Cloudflare holds now, in words; and every member and user group the
 * sync does not manage, reported and never touched. Pure: target_snapshot.ts reads the inputs.
 */
import { isProtectedEmail, type Mapping, normalizeEmail } from "../../config/mapping.ts";
import type { WantedUser } from "../../store/wanted_state.ts";
import type { CloudflareMember, CloudflareUserGroup } from "../../targets/cloudflare/api.ts";
import {
  cloudflareGroupAdopts,
  cloudflareGroupEligible,
  cloudflareMemberAdopts,
  desiredCloudflareGroup,
  planCloudflareGroup,
  planCloudflareMember,
  planCloudflareMembership,
  wantsCloudflareMember,
} from "../../targets/cloudflare/decisions.ts";
import {
  claimGroupIn,
  claimIn,
  finishPlan,
  heldByAnother,
  idsToPlan,
  itemFor,
  openingItems,
  startingPoint,
  type TargetPlan,
  type TargetPlanItem,
  type TargetTwins,
  type WantedView,
} from "./target_plan.ts";

/** What reconcile read of Cloudflare. */
export interface CloudflareSnapshot {
  /** Every account member, by id, in listing order. */
  members: Map<string, CloudflareMember>;
  /** Every user group, by id, in listing order. */
  groups: Map<string, CloudflareUserGroup>;
  /** Group id -> member ids; for the groups the sync manages or would adopt. */
  groupMembers: Map<string, string[]>;
}

/**
 * @example
 * const plan = planCloudflareDrift(mapping, wanted, twins, snapshot);
 * plan.counts["add-member"]; // 1
 */
export function planCloudflareDrift(
  mapping: Mapping,
  wanted: WantedView,
  twins: TargetTwins,
  cf: CloudflareSnapshot,
): TargetPlan {
  const items: TargetPlanItem[] = [];
  const adoptedMembers = planMembers(mapping, wanted, twins, cf, items);
  const adoptedGroups = planGroups(mapping, wanted, twins, cf, items);
  for (const m of cf.members.values()) {
    if (twins.managedUsers.has(m.id) || adoptedMembers.has(m.id)) continue;
    const why = isProtectedEmail(mapping, m.email)
      ? "protected email: never changed by the sync"
      : `not managed by the sync: left as it is (${m.status})`;
    items.push({ action: "unmanaged", label: m.email, detail: why, targetId: m.id });
  }
  for (const g of cf.groups.values()) {
    if (twins.managedGroups.has(g.id) || adoptedGroups.has(g.id)) continue;
    items.push({
      action: "unmanaged",
      label: g.name,
      detail: "user group not managed by the sync: left as it is",
      targetId: g.id,
    });
  }
  return finishPlan("cloudflare", items);
}

/** Member items; returns the ids of the members the plan adopts. */
function planMembers(
  mapping: Mapping,
  wanted: WantedView,
  twins: TargetTwins,
  cf: CloudflareSnapshot,
  items: TargetPlanItem[],
): Set<string> {
  // As `findMemberByEmail`: the first member listed with this email, case aside.
  const byEmail = new Map<string, CloudflareMember>();
  for (const m of cf.members.values()) {
    const key = normalizeEmail(m.email.trim());
    if (!byEmail.has(key)) byEmail.set(key, m);
  }
  const adopted = new Set<string>();
  for (const idpId of idsToPlan(wanted.users, twins.managedUsers)) {
    const user = wanted.users.get(idpId);
    const { current, origin, gone, claim, marked } = startingPoint(
      twins.users.get(idpId),
      cf.members,
      (email) => byEmail.get(normalizeEmail(email.trim())),
      wantsCloudflareMember(user) ? user!.email : undefined,
      (m) => claimIn(mapping, "cloudflare", wanted, twins, idpId, m.id, m.email),
      (m) => heldByAnother(twins.managedUsers, idpId, m.id),
    );
    const facts = { mapping, section: mapping.cloudflare, wanted: user, current, origin };
    const plan = planCloudflareMember(facts);
    const item = itemFor(`user:${idpId}`, user?.email ?? current?.email ?? idpId);
    // As the worker: a member another IdP user holds is a conflict or a wait, before any plan.
    const start = { origin, claim, marked };
    if (
      !openingItems(start, plan.conflict, current?.id, "Cloudflare member", item, {
        items,
        adopted,
      })
    ) continue;
    if (cloudflareMemberAdopts(facts, plan)) {
      adopted.add(current!.id);
      items.push(item("adopt", `unmanaged Cloudflare member ${current!.id} has this email`));
    }
    for (const change of plan.changes) {
      if (change.op === "invite") {
        const why = gone ? `member ${gone} is gone (removed outside the sync)` : "not a member";
        items.push(item("create", `${why}: invite with roles ${change.roleIds.join(", ")}`));
      } else {
        const member = cf.members.get(change.memberId);
        items.push(item(
          "delete",
          `${leaving(user)}: remove member ${member?.email ?? ""} (Cloudflare cannot deactivate)`,
          change.memberId,
        ));
      }
    }
  }
  return adopted;
}

function leaving(user: WantedUser | undefined): string {
  if (!user) return "no longer known to the IdP";
  if (user.deleted) return "deleted at the IdP";
  if (!user.active) return "deactivated at the IdP";
  return "email changed at the IdP";
}

/** User group and group member items; returns the ids of the groups the plan adopts. */
function planGroups(
  mapping: Mapping,
  wanted: WantedView,
  twins: TargetTwins,
  cf: CloudflareSnapshot,
  items: TargetPlanItem[],
): Set<string> {
  const adopted = new Set<string>();
  const managedMembers = new Set(twins.managedUsers.keys());
  for (const idpId of idsToPlan(wanted.groups, twins.managedGroups)) {
    const group = wanted.groups.get(idpId);
    const desired = desiredCloudflareGroup(mapping.cloudflare, group);
    const { current, origin, gone, marked, claim } = startingPoint(
      twins.groups.get(idpId),
      cf.groups,
      // As `findUserGroupByName`: the first group listed with exactly this name.
      (name) => [...cf.groups.values()].find((g) => g.name === name),
      desired.kind === "present" ? desired.name : undefined,
      (g) =>
        claimGroupIn("cloudflare", wanted, twins, idpId, g.id, g.name, (holder) => {
          const wants = desiredCloudflareGroup(mapping.cloudflare, holder);
          return wants.kind === "present" && wants.name === g.name;
        }),
      (g) => heldByAnother(twins.managedGroups, idpId, g.id),
    );
    const plan = planCloudflareGroup({ desired, current, origin, mapping });
    const item = itemFor(`group:${idpId}`, group?.displayName ?? current?.name ?? idpId);
    // As the worker (`takeOverFoundGroup()`): a group another IdP group holds is a conflict or a
    // wait, before any plan.
    const start = { origin, claim, marked };
    if (!openingItems(start, plan.conflict, current?.id, "user group", item, { items, adopted })) {
      continue;
    }
    if (cloudflareGroupAdopts({ desired, current, origin }, plan)) {
      adopted.add(current!.id);
      items.push(item("adopt", `unmanaged Cloudflare user group ${current!.id} has this name`));
    }
    // The group the membership step works on: none once deleted, a new one (no members yet).
    let groupId: string | undefined = current?.id;
    let exists = current !== undefined;
    for (const change of plan.changes) {
      if (change.op === "create") {
        const why = gone ? `user group ${gone} is gone (deleted outside the sync)` : "new";
        items.push(item("create", `${why}, ${change.policies.length} policies`));
        groupId = "(new)";
        exists = false;
      } else if (change.op === "update") {
        items.push(item("update", `name and policies as the mapping says`, change.groupId));
      } else {
        items.push(item("delete", "deleted at the IdP or out of scope", change.groupId));
        groupId = undefined;
      }
    }
    if (!groupId) continue;
    const memberIds = wanted.members.get(idpId) ?? [];
    const users = new Map<string, WantedUser>();
    for (const id of memberIds) {
      const u = wanted.users.get(id);
      if (u) users.set(id, u);
    }
    // Linked account members that exist now; one that is gone is invited again by its user's
    // job, which then enqueues this group's job to add it.
    const want = cloudflareGroupEligible(desired, memberIds, users)
      .map((id) => twins.users.get(id)?.targetId)
      .filter((id): id is string => id !== undefined && cf.members.has(id));
    const now = exists ? cf.groupMembers.get(groupId) : [];
    if (!now) continue; // not read: nothing to say
    const changes = planCloudflareMembership({
      wanted: want,
      current: now,
      managed: managedMembers,
    });
    const target = exists ? groupId : undefined;
    const email = (id: string) => cf.members.get(id)?.email ?? id;
    for (const c of changes) {
      if (c.op === "remove") {
        items.push(item("remove-member", email(c.memberId), target));
        continue;
      }
      const ids = c.op === "add" ? c.memberIds : c.memberIds.filter((id) => !now.includes(id));
      for (const id of ids) items.push(item("add-member", email(id), target));
      if (c.op === "replace") {
        for (const id of now.filter((id) => !c.memberIds.includes(id))) {
          items.push(item("remove-member", email(id), target));
        }
      }
    }
  }
  return adopted;
}
