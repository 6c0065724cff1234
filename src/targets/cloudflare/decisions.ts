/**
 * What Cloudflare should hold for a wanted user or group, and the list of changes that gets it
 * there. Pure: the worker and reconcile both call it; `decisions.test.ts` covers it from tables.
 *
 * Cloudflare has no "disabled member": an IdP user who is deactivated or deleted must stop being
 * a member, so removal is the only way to take access away. It ends the membership of this
 * account only: the person's own Cloudflare user and their other accounts stay (Cloudflare API
 * reference, "Account Members", cited in api.ts). So a member the service adopted loses its
 * membership like one it invited, as an adopted IONOS or Contabo user is deactivated or
 * disabled. The safety rules are IONOS's (docs/security.md) within that: protected emails are
 * never touched; members the service does not manage are never removed; removals come before
 * additions; a group's whole member list is replaced (PUT) only when every current member is
 * one the service manages, so nobody added by hand is dropped.
 */
import {
  globMatch,
  isProtectedEmail,
  type Mapping,
  matchesAny,
  normalizeEmail,
} from "../../config/mapping.ts";
import type { WantedGroup, WantedUser } from "../../store/wanted_state.ts";
import type { CloudflareMember, CloudflarePolicy, CloudflareUserGroup } from "./api.ts";
import { normalizePolicies } from "./api.ts";
import type { CloudflareMapping } from "./mapping.ts";

type Origin = "created" | "adopted" | undefined;

/**
 * A plan: changes in order, and why nothing (more) is done when the rules hold it back (`note`),
 * or what is only worth knowing and holds nothing back (`info`).
 */
export interface CloudflarePlan<C> {
  changes: C[];
  conflict?: string;
  note?: string;
  info?: string;
}

// --- members ---------------------------------------------------------------------------------

/** One member call. */
export type CloudflareMemberChange =
  | { op: "invite"; email: string; roleIds: string[] }
  | { op: "remove"; memberId: string };

/** Everything the member decision reads. */
export interface CloudflareMemberFacts {
  mapping: Mapping;
  section: CloudflareMapping;
  wanted: WantedUser | undefined;
  /** The member now: the linked one, or the one with the wanted email. */
  current: CloudflareMember | undefined;
  origin: Origin;
}

/** Whether the IdP user should be a member at all: active, not deleted, with an email. */
export function wantsCloudflareMember(wanted: WantedUser | undefined): boolean {
  return !!wanted && !!wanted.email && wanted.active && !wanted.deleted;
}

/** A member whose roles read as administration (not read-only): never adopted under non-admin. */
export function looksLikeCloudflareAdmin(member: CloudflareMember): boolean {
  return member.roleNames.some((n) => /administrator/i.test(n) && !/read only/i.test(n));
}

/**
 * The member changes for one IdP user.
 *
 * @example planCloudflareMember(facts).changes // [{ op: "invite", email, roleIds }]
 */
export function planCloudflareMember(
  facts: CloudflareMemberFacts,
): CloudflarePlan<CloudflareMemberChange> {
  const { mapping, section, wanted, current, origin } = facts;
  const protectedNote = { changes: [], note: "protected email: left as it is in Cloudflare" };
  if (isProtectedEmail(mapping, current?.email)) return protectedNote;
  if (!wantsCloudflareMember(wanted)) {
    if (!current) return { changes: [] };
    if (!origin) return { changes: [], note: `member ${current.id} is not managed by the sync` };
    // Invited or adopted, the access goes: Cloudflare cannot deactivate, and removing the
    // membership leaves the person's own Cloudflare user (IONOS deactivates an adopted user).
    // This holds even when the IdP user's new email is protected: that address is never given
    // to the member, and the member it has is deprovisioned normally.
    return { changes: [{ op: "remove", memberId: current.id }] };
  }
  if (isProtectedEmail(mapping, wanted?.email)) return protectedNote;
  if (!current) {
    if (section.memberRoles.length === 0) {
      return {
        changes: [],
        conflict: "conflict: cloudflare.memberRoles is empty; Cloudflare invites need a role",
      };
    }
    return {
      changes: [{ op: "invite", email: wanted!.email!, roleIds: [...section.memberRoles] }],
    };
  }
  if (!origin) {
    if (mapping.adopt.users === "none") {
      return {
        changes: [],
        conflict: `conflict: Cloudflare member ${current.id} (${current.email}) exists and ` +
          `adopt.users is none`,
      };
    }
    if (mapping.adopt.users === "non-admin" && looksLikeCloudflareAdmin(current)) {
      return {
        changes: [],
        conflict: `conflict: Cloudflare member ${current.id} (${current.email}) has an ` +
          `administrator role and is not adopted; add it to protectedEmails or set adopt.users: all`,
      };
    }
  }
  if (normalizeEmail(current.email) !== normalizeEmail(wanted!.email!)) {
    // A membership's email cannot be changed: the new address gets its own invitation, and the
    // old membership goes first so that no second person holds the access meanwhile.
    if (origin !== "created" && !mapping.adopt.deleteAdopted) {
      return {
        changes: [],
        conflict: `conflict: Cloudflare member ${current.id} (${current.email}) cannot take the ` +
          `new email ${
            wanted!.email
          } and was adopted; change it by hand or set adopt.deleteAdopted`,
      };
    }
    return {
      changes: [
        { op: "remove", memberId: current.id },
        { op: "invite", email: wanted!.email!, roleIds: [...section.memberRoles] },
      ],
    };
  }
  if (current.status === "pending") {
    // Not a hold-back: an unmanaged invitation with the wanted email is adopted like an accepted
    // member. Left unlinked under a note, its user would own no account and be in no conflict,
    // and no job would look again (model test, cloudflare seed 389: another IdP user's lost
    // invitation, linked by that user's retry a moment later).
    return { changes: [], info: "invitation pending: the person has not accepted it yet" };
  }
  return { changes: [] };
}

/**
 * Whether the plan takes over `current`, a member found by email that the sync did not manage
 * yet: only when the rules let it through (no conflict, no note) and the IdP user wants to be
 * a member, whether or not the invitation was accepted yet.
 */
export function cloudflareMemberAdopts(
  facts: Pick<CloudflareMemberFacts, "wanted" | "current" | "origin">,
  plan: CloudflarePlan<CloudflareMemberChange>,
): boolean {
  const { wanted, current, origin } = facts;
  return !!current && !origin && !plan.note && !plan.conflict && wantsCloudflareMember(wanted);
}

// --- user groups -----------------------------------------------------------------------------

/** What Cloudflare should hold for an IdP group. */
export type CloudflareGroupDesired =
  | {
    kind: "present";
    name: string;
    policies: CloudflarePolicy[];
    /** Whether the mapping names policies for this group (else an adopted group keeps its own). */
    mapped: boolean;
  }
  | { kind: "absent" };

/** The user group for an IdP group: present while it exists and the mapping includes it. */
export function desiredCloudflareGroup(
  section: CloudflareMapping,
  wanted: WantedGroup | undefined,
): CloudflareGroupDesired {
  if (!wanted || wanted.deleted || !cloudflareGroupInScope(section, wanted.displayName)) {
    return { kind: "absent" };
  }
  return {
    kind: "present",
    name: wanted.displayName,
    policies: cloudflarePoliciesFor(section, wanted.displayName),
    mapped: Object.keys(section.groups.policies).some((p) => globMatch(p, wanted.displayName)),
  };
}

/** One user group call. */
export type CloudflareGroupChange =
  | { op: "create"; name: string; policies: CloudflarePolicy[] }
  | { op: "update"; groupId: string; name: string; policies: CloudflarePolicy[] }
  | { op: "delete"; groupId: string };

/**
 * The user group changes. A group the service did not create is never deleted: it is released
 * (its managed members are removed by the membership plan).
 */
export function planCloudflareGroup(facts: {
  desired: CloudflareGroupDesired;
  current: CloudflareUserGroup | undefined;
  origin: Origin;
  mapping: Mapping;
}): CloudflarePlan<CloudflareGroupChange> {
  const { desired, current, origin, mapping } = facts;
  if (desired.kind === "absent") {
    if (!current) return { changes: [] };
    if (origin === "created") return { changes: [{ op: "delete", groupId: current.id }] };
    return {
      changes: [],
      note: `user group ${current.id} is not deleted: the sync did not create it`,
    };
  }
  if (!current) {
    return { changes: [{ op: "create", name: desired.name, policies: desired.policies }] };
  }
  if (!origin && !mapping.adopt.groups) {
    return {
      changes: [],
      conflict:
        `conflict: Cloudflare user group "${current.name}" exists and adopt.groups is false`,
    };
  }
  // A group the sync did not create keeps its own policies unless the mapping names some: the
  // sync never wipes what an administrator set up by hand.
  const policies = origin !== "created" && !desired.mapped
    ? normalizePolicies(current.policies)
    : desired.policies;
  const same = current.name === desired.name &&
    JSON.stringify(normalizePolicies(current.policies)) === JSON.stringify(policies);
  return same ? { changes: [] } : {
    changes: [{ op: "update", groupId: current.id, name: desired.name, policies }],
  };
}

/** Whether the plan takes over `current`, a user group found by name the sync did not manage. */
export function cloudflareGroupAdopts(
  facts: {
    desired: CloudflareGroupDesired;
    current: CloudflareUserGroup | undefined;
    origin: Origin;
  },
  plan: CloudflarePlan<CloudflareGroupChange>,
): boolean {
  return !!facts.current && !facts.origin && facts.desired.kind === "present" && !plan.conflict;
}

// --- user group members ----------------------------------------------------------------------

/** One membership call. */
export type CloudflareMembershipChange =
  | { op: "remove"; memberId: string }
  | { op: "add"; memberIds: string[] }
  | { op: "replace"; memberIds: string[] };

/**
 * The membership changes that make a group hold `wanted` (member ids of IdP members who should
 * be in it and are Cloudflare members). Members the service does not manage are left alone.
 * With `replaceAbove` or more changes and only managed members in the group, one PUT replaces
 * the list; otherwise removals (one DELETE each) come first, then one POST adds.
 */
export function planCloudflareMembership(facts: {
  wanted: readonly string[];
  current: readonly string[];
  managed: ReadonlySet<string>;
  /** @default 10 */
  replaceAbove?: number;
}): CloudflareMembershipChange[] {
  const { wanted, current, managed, replaceAbove = 10 } = facts;
  const want = new Set(wanted);
  const now = new Set(current);
  const removals = [...now].filter((id) => managed.has(id) && !want.has(id)).sort();
  const additions = [...want].filter((id) => !now.has(id)).sort();
  if (removals.length + additions.length === 0) return [];
  const onlyManaged = [...now].every((id) => managed.has(id));
  if (onlyManaged && removals.length + additions.length >= replaceAbove) {
    return [{ op: "replace", memberIds: [...want].sort() }];
  }
  return [
    ...removals.map((memberId) => ({ op: "remove" as const, memberId })),
    ...(additions.length ? [{ op: "add" as const, memberIds: additions }] : []),
  ];
}

/**
 * The IdP members whose account members belong in the user group: every member who should be an
 * account member while the group is present; none once it is absent (a released group keeps
 * only the members the sync does not manage).
 */
export function cloudflareGroupEligible(
  desired: CloudflareGroupDesired,
  memberIds: readonly string[],
  users: ReadonlyMap<string, WantedUser>,
): string[] {
  if (desired.kind === "absent") return [];
  return memberIds.filter((id) => wantsCloudflareMember(users.get(id)));
}

/** Whether an IdP group becomes a Cloudflare user group. */
export function cloudflareGroupInScope(section: CloudflareMapping, name: string): boolean {
  return matchesAny(section.groups.include, name);
}

/** The policies for an IdP group name, from every matching pattern, normalized. */
export function cloudflarePoliciesFor(
  section: CloudflareMapping,
  name: string,
): CloudflarePolicy[] {
  const out: CloudflarePolicy[] = [];
  for (const [pattern, policies] of Object.entries(section.groups.policies)) {
    if (globMatch(pattern, name)) out.push(...policies);
  }
  return normalizePolicies(out);
}
