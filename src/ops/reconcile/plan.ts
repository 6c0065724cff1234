/**
 * Compares the wanted state with what IONOS holds and lists what a sync would change. Pure: the
 * snapshots are read elsewhere, so the comparison can be tested without Redis or IONOS.
 */
import { isProtectedEmail, type Mapping, normalizeEmail } from "../../config/mapping.ts";
import { groupShares } from "../../targets/ionos/mapping.ts";
import {
  parseRecordedKeys,
  parseRecordedShares,
  s3KeyChanges,
  shareChanges,
} from "../../targets/ionos/access_decisions.ts";
import type { IonosGroup } from "../../targets/ionos/types.ts";
import type { EntityKey, WantedGroup, WantedUser } from "../../store/wanted_state.ts";
import {
  deactivated,
  desiredGroup,
  desiredUser,
  groupDiff,
  groupInScope,
  groupRemoval,
  isAdministrator,
  memberChanges,
  ownPrivileges,
  protectedEmailConflict,
  userAdoptionRefusal,
  userDiff,
  userRemoval,
} from "../../targets/ionos/decisions.ts";
import type { IonosSnapshot, WantedSnapshot } from "./snapshot.ts";

export const PLAN_ACTIONS = [
  "create",
  "adopt",
  "update",
  "deactivate",
  "reactivate",
  "delete",
  "add-member",
  "remove-member",
  "share",
  "unshare",
  "close-s3-keys",
  "reopen-s3-keys",
  "conflict",
] as const;
export type PlanAction = typeof PLAN_ACTIONS[number];

/** One change a sync would make. */
export interface PlanItem {
  /** The entity whose sync job makes the change. */
  entity: EntityKey;
  action: PlanAction;
  /** Email (users) or group name. */
  label: string;
  /** What and why, e.g. "firstname, lastname" or "unmanaged IONOS user u-9 has this email". */
  detail: string;
  ionosId?: string | undefined;
}

export interface Plan {
  items: PlanItem[];
  /** Items per action; every action is present, zero or not. */
  counts: Record<PlanAction, number>;
  /** Entities to sync to carry the plan out, each once. */
  entities: EntityKey[];
}

/**
 * @example
 * const plan = computePlan(mapping, wanted, ionos);
 * plan.counts.update; // 1
 */
export function computePlan(mapping: Mapping, wanted: WantedSnapshot, ionos: IonosSnapshot): Plan {
  const items: PlanItem[] = [];
  for (const user of wanted.users.values()) items.push(...planUser(mapping, wanted, ionos, user));
  for (const group of wanted.groups.values()) {
    items.push(...planGroup(mapping, wanted, ionos, group));
  }
  const counts = Object.fromEntries(PLAN_ACTIONS.map((a) => [a, 0])) as Record<PlanAction, number>;
  for (const item of items) counts[item.action]++;
  return { items, counts, entities: [...new Set(items.map((i) => i.entity))] };
}

function planUser(
  mapping: Mapping,
  wanted: WantedSnapshot,
  ionos: IonosSnapshot,
  user: WantedUser,
): PlanItem[] {
  const entity: EntityKey = `user:${user.id}`;
  const twin = wanted.userTwins.get(user.id);
  const current = twin?.ionosId ? ionos.users.get(twin.ionosId) : undefined;
  const label = user.email ?? current?.properties.email ?? user.id;
  const item = (action: PlanAction, detail: string, ionosId?: string): PlanItem => ({
    entity,
    action,
    label,
    detail,
    ionosId: ionosId || undefined,
  });

  // Protected accounts are never touched, whatever the IdP says.
  if (current && isProtectedEmail(mapping, current.properties.email)) return [];
  if (user.deleted) {
    if (!current) return [];
    if (userRemoval(mapping, twin?.origin) === "deactivate") {
      return [
        ...(deactivated(current.properties)
          ? [item("deactivate", "deleted at the IdP (account kept, deactivated)", current.id)]
          : []),
        ...keyItems(mapping, ionos, current.id, false, twin?.s3KeysOff, item),
      ];
    }
    return [item("delete", "deleted at the IdP", current.id)];
  }
  if (!user.email) return [];
  const wantedEmail = normalizeEmail(user.email);

  const isAdmin = isAdministrator(mapping, wanted.userGroups.get(user.id) ?? [], wanted.groups);
  let base = current;
  const out: PlanItem[] = [];
  if (!current) {
    const refusal = protectedEmailConflict(mapping, wantedEmail);
    if (refusal) return [item("conflict", refusal)];
    const match = ionos.usersByEmail.get(wantedEmail);
    if (match) {
      const owner = wanted.managedUsers.get(match.id);
      const ownerAlive = owner !== undefined && owner !== user.id &&
        wanted.users.get(owner)?.deleted === false;
      // As workers/sync_user.ts decides: a live owner is a conflict only a person can resolve.
      if (ownerAlive) {
        return [item(
          "conflict",
          `IONOS user ${match.id} with this email belongs to user:${owner}; one email, two IdP users`,
          match.id,
        )];
      }
      const adoption = owner === undefined ? userAdoptionRefusal(mapping, match) : undefined;
      if (adoption) return [item("conflict", adoption, match.id)];
      out.push(item(
        "adopt",
        owner && owner !== user.id
          ? `IONOS user ${match.id} passes over from deleted user:${owner}`
          : `unmanaged IONOS user ${match.id} has this email`,
        match.id,
      ));
      base = match;
    } else {
      const why = twin?.ionosId
        ? `IONOS user ${twin.ionosId} is gone (deleted outside the sync)`
        : "not in IONOS yet";
      return [item("create", why)];
    }
  }
  const props = base!.properties;
  // A protected address is never given to a managed account: it keeps its own.
  const emailRefusal = protectedEmailConflict(mapping, wantedEmail);
  if (emailRefusal) out.push(item("conflict", emailRefusal, base!.id));
  const desired = desiredUser(
    mapping,
    user,
    isAdmin,
    props,
    emailRefusal ? props.email : wantedEmail,
  );
  const diff = userDiff(props, desired);
  if (diff.includes("active")) {
    out.push(item(desired.active ? "reactivate" : "deactivate", "active", base!.id));
  }
  const others = diff.filter((f) => f !== "active");
  if (others.length) {
    const detail = others.map((f) => `${f}: ${show(props[f])} -> ${show(desired[f])}`).join(", ");
    out.push(item("update", detail, base!.id));
  }
  // Only an account the service manages already; an adopted one is looked at after adoption.
  if (current) {
    out.push(...keyItems(mapping, ionos, current.id, desired.active, twin?.s3KeysOff, item));
  }
  return out;
}

/** close-s3-keys / reopen-s3-keys items, decided by `s3KeyChanges` as the user job does. */
function keyItems(
  mapping: Mapping,
  ionos: IonosSnapshot,
  ionosUserId: string,
  active: boolean,
  recorded: string | undefined,
  item: (action: PlanAction, detail: string, ionosId?: string) => PlanItem,
): PlanItem[] {
  const keys = ionos.s3Keys?.get(ionosUserId);
  if (!keys) return []; // not read: nothing to say
  const plan = s3KeyChanges(mapping.offboarding.s3Keys, active, keys, parseRecordedKeys(recorded));
  const out: PlanItem[] = [];
  if (plan.deactivate.length) {
    out.push(item("close-s3-keys", `deactivate ${plan.deactivate.join(", ")}`, ionosUserId));
  }
  if (plan.delete.length) {
    out.push(item("close-s3-keys", `delete ${plan.delete.join(", ")}`, ionosUserId));
  }
  if (plan.activate.length) {
    out.push(item("reopen-s3-keys", `activate ${plan.activate.join(", ")}`, ionosUserId));
  }
  return out;
}

/** share / unshare / conflict items, decided by `shareChanges` as the group job does. */
function shareItems(
  ionos: IonosSnapshot,
  wanted: ReturnType<typeof groupShares>,
  ionosGroupId: string | undefined,
  recorded: string | undefined,
  name: string,
  idpId: string,
  item: (action: PlanAction, detail: string, ionosId?: string) => PlanItem,
): PlanItem[] {
  const actual = ionosGroupId === undefined ? new Map() : ionos.shares?.get(ionosGroupId);
  if (!actual) return []; // not read: nothing to say
  const plan = shareChanges(wanted, actual, parseRecordedShares(recorded), ionos.resources);
  const flags = (f?: { edit: boolean; share: boolean }) =>
    f ? ` (edit ${f.edit}, share ${f.share})` : "";
  const detail = (w: { resource: string; op: string; flags?: { edit: boolean; share: boolean } }) =>
    `${w.op} ${w.resource}${flags(w.flags)}`;
  return [
    ...plan.reduce.map((w) => item("unshare", detail(w), ionosGroupId)),
    ...plan.grant.map((w) => item("share", detail(w), ionosGroupId)),
    ...plan.unknown.map((r) =>
      item(
        "conflict",
        `group "${name}" (IdP ${idpId}) is given unknown IONOS resource ${r} (not in GET /um/resources)`,
        ionosGroupId,
      )
    ),
  ];
}

function planGroup(
  mapping: Mapping,
  wanted: WantedSnapshot,
  ionos: IonosSnapshot,
  group: WantedGroup,
): PlanItem[] {
  const entity: EntityKey = `group:${group.id}`;
  const twin = wanted.groupTwins.get(group.id);
  const current = twin?.ionosId ? ionos.groups.get(twin.ionosId) : undefined;
  const item = (action: PlanAction, detail: string, ionosId?: string): PlanItem => ({
    entity,
    action,
    label: group.displayName,
    detail,
    ionosId: ionosId || undefined,
  });
  const ending = group.deleted
    ? "deleted at the IdP"
    : !groupInScope(mapping, group.displayName)
    ? "not in groups.include"
    : undefined;
  if (ending) {
    if (!current) return [];
    if (groupRemoval(twin?.origin) === "delete") return [item("delete", ending, current.id)];
    // An adopted group stays; only the members the service manages leave it, and only the
    // shares it set are taken back.
    return [
      ...memberItems(mapping, wanted, ionos, new Set(), current.id, item),
      ...shareItems(ionos, [], current.id, twin?.managedShares, group.displayName, group.id, item),
    ];
  }

  const out: PlanItem[] = [];
  let base = current;
  if (!base) {
    const match = adoptableGroup(wanted.managedGroups, ionos.groups, group.displayName);
    if (match && !mapping.adopt.groups) {
      return [item("conflict", `IONOS group ${match.id} has this name and adopt.groups is false`)];
    }
    if (match) {
      out.push(item("adopt", `unmanaged IONOS group ${match.id} has this name`, match.id));
      base = match;
    } else {
      out.push(item(
        "create",
        twin?.ionosId ? `IONOS group ${twin.ionosId} is gone (deleted outside the sync)` : "new",
      ));
    }
  }
  if (base) {
    const origin = current ? twin?.origin ?? "created" : "adopted";
    const own = current ? ownPrivileges(twin?.ownPrivileges) : undefined;
    const desired = desiredGroup(mapping, group.displayName, origin, own ?? base.properties);
    const diff = groupDiff(base.properties, desired);
    if (diff.length) out.push(item("update", diff.join(", "), base.id));
  }

  // Members: only alive users that exist in IONOS can be added; the rest wait for their sync.
  const want = new Set<string>();
  for (const uid of wanted.members.get(group.id) ?? []) {
    const ionosId = wanted.userTwins.get(uid)?.ionosId;
    const alive = wanted.users.get(uid)?.deleted === false;
    if (alive && ionosId && ionos.users.has(ionosId)) want.add(ionosId);
  }
  out.push(...memberItems(mapping, wanted, ionos, want, base?.id, item));
  // A group to be created or adopted has nothing recorded; a new one has no shares yet.
  out.push(...shareItems(
    ionos,
    groupShares(mapping, group.displayName),
    base?.id,
    current ? twin?.managedShares : undefined,
    group.displayName,
    group.id,
    item,
  ));
  return out;
}

/** add-member / remove-member items, decided by `memberChanges` as the group job does. */
function memberItems(
  mapping: Mapping,
  wanted: WantedSnapshot,
  ionos: IonosSnapshot,
  want: Set<string>,
  ionosGroupId: string | undefined,
  item: (action: PlanAction, detail: string, ionosId?: string) => PlanItem,
): PlanItem[] {
  const actual = ionosGroupId
    ? ionos.members.get(ionosGroupId) ?? new Set<string>()
    : new Set<string>();
  const protectedIds = new Set(
    [...want, ...actual].filter((id) =>
      isProtectedEmail(mapping, ionos.users.get(id)?.properties.email)
    ),
  );
  const managed = new Set([...actual].filter((id) => wanted.managedUsers.has(id)));
  const { add, remove } = memberChanges(want, actual, managed, protectedIds);
  return [
    ...add.map((uid) => item("add-member", memberLabel(wanted, ionos, uid), ionosGroupId)),
    ...remove.map((uid) => item("remove-member", memberLabel(wanted, ionos, uid), ionosGroupId)),
  ];
}

/** The first IONOS group with this name that no one manages, as the worker would adopt. */
export function adoptableGroup(
  managedGroups: Map<string, string>,
  groups: Map<string, IonosGroup>,
  name: string,
): IonosGroup | undefined {
  for (const g of groups.values()) {
    if (g.properties.name === name && !managedGroups.has(g.id)) return g;
  }
  return undefined;
}

function memberLabel(wanted: WantedSnapshot, ionos: IonosSnapshot, ionosUserId: string): string {
  const email = ionos.users.get(ionosUserId)?.properties.email;
  const idp = wanted.managedUsers.get(ionosUserId);
  return `${email ?? ionosUserId}${idp ? ` (user:${idp})` : ""}`;
}

const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));
