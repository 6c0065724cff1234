/**
 * What Contabo should hold for one wanted user, and the list of changes that gets it there.
 * Pure: no I/O, no clock; the worker and reconcile both call it, and `decisions.test.ts` covers
 * it from tables. The safety rules are IONOS's (docs/security.md), applied to Contabo's fields:
 *
 * - protected emails and the account owner are never changed;
 * - a user the service did not create is adopted only as `adopt.users` allows;
 * - access is taken away first and on its own (disable, admin off, accessAllResources off,
 *   roles removed), so a failure of the rest never leaves access in place;
 * - an IdP delete deletes only what the service created (or adopted with `deleteAdopted`);
 *   anything else is disabled.
 */
import {
  isProtectedEmail,
  type Mapping,
  matchesAny,
  normalizeEmail,
} from "../../config/mapping.ts";
import type { WantedUser } from "../../store/wanted_state.ts";
import type {
  ContaboCreateUserBody,
  ContaboUpdateUserBody,
  ContaboUser,
  ContaboUserFields,
} from "./api.ts";
import type { ContaboMapping } from "./mapping.ts";

/** What Contabo should hold: a user with these fields, or none. */
export type ContaboDesired =
  | { kind: "present"; user: ContaboUserFields }
  | { kind: "absent" };

/** One call to make, in order. */
export type ContaboChange =
  | { op: "create"; body: ContaboCreateUserBody }
  | {
    op: "update";
    userId: string;
    patch: ContaboUpdateUserBody;
    /** This write only takes access away; it goes first and on its own. */
    reduction: boolean;
  }
  | { op: "delete"; userId: string };

/** The answer: changes to make, and why nothing (more) is done when the rules hold it back. */
export interface ContaboPlan {
  changes: ContaboChange[];
  /** Set when a person must act (adoption refused, protected email, owner): nothing is changed. */
  conflict?: string;
  /** Set when the rules leave the user alone on purpose and nobody needs to act. */
  note?: string;
}

/** Everything the decision reads. */
export interface ContaboUserFacts {
  mapping: Mapping;
  section: ContaboMapping;
  /** The IdP's user; `undefined` when the IdP no longer knows it (treated as deleted). */
  wanted: WantedUser | undefined;
  /** Display names of the IdP groups the user is in, for roles and administrators. */
  groupNames: readonly string[];
  /** The Contabo user now: the linked one, or the one with the wanted email. */
  current: ContaboUser | undefined;
  /** How the service came to manage `current`: created it, adopted it, or neither yet. */
  origin: "created" | "adopted" | undefined;
}

/**
 * What Contabo should hold for this wanted user.
 *
 * @example desiredContaboUser(facts) // { kind: "present", user: { email, enabled: true, roles: [101], ... } }
 */
export function desiredContaboUser(
  facts: Pick<ContaboUserFacts, "mapping" | "section" | "wanted" | "groupNames" | "current">,
): ContaboDesired {
  const { mapping, section, wanted, groupNames, current } = facts;
  if (!wanted || !wanted.email) return { kind: "absent" };
  if (wanted.deleted && mapping.onUserDeleted === "delete") return { kind: "absent" };
  const enabled = wanted.active && !wanted.deleted;
  const local = wanted.email.split("@")[0] ?? wanted.email;
  const admin = enabled && mapping.administrators.length > 0 &&
    groupNames.some((g) => matchesAny(mapping.administrators, g));
  return {
    kind: "present",
    user: {
      firstName: wanted.firstName || wanted.displayName?.split(" ")[0] || local,
      lastName: wanted.lastName || wanted.displayName?.split(" ").slice(1).join(" ") || local,
      // Never moved to a protected address (see planContaboUser): the user keeps its own.
      email: current && isProtectedEmail(mapping, wanted.email) ? current.email : wanted.email,
      enabled,
      // A 2FA the person switched on stays on; the mapping can only require it.
      totp: section.totp || !!current?.totp,
      admin,
      accessAllResources: enabled &&
        groupNames.some((g) => matchesAny(section.accessAllResources, g)),
      locale: current?.locale ?? section.locale,
      // A disabled user keeps no roles: nothing is granted that a later enable would reopen.
      roles: enabled ? contaboRolesFor(section, groupNames) : [],
    },
  };
}

const COMPARED = [
  "firstName",
  "lastName",
  "email",
  "enabled",
  "totp",
  "admin",
  "accessAllResources",
  "roles",
] as const;
type Compared = typeof COMPARED[number];

const sameRoles = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((r, i) => r === b[i]);

/** Field names whose values differ (email compared normalized, roles as sets). */
export function contaboUserDiff(current: ContaboUser, desired: ContaboUserFields): Compared[] {
  return COMPARED.filter((k) => {
    if (k === "email") return normalizeEmail(current.email) !== normalizeEmail(desired.email);
    if (k === "roles") return !sameRoles(current.roles, desired.roles);
    return current[k] !== desired[k];
  });
}

/**
 * The access-removing part of a change, or `undefined` when nothing is taken away: disable,
 * admin off, accessAllResources off, and the roles that go (kept roles stay).
 */
export function contaboAccessReduction(
  current: ContaboUser,
  desired: ContaboUserFields,
): ContaboUpdateUserBody | undefined {
  const patch: ContaboUpdateUserBody = {};
  if (current.enabled && !desired.enabled) patch.enabled = false;
  if (current.admin && !desired.admin) patch.admin = false;
  if (current.accessAllResources && !desired.accessAllResources) patch.accessAllResources = false;
  const kept = current.roles.filter((r) => desired.roles.includes(r));
  if (kept.length < current.roles.length) patch.roles = kept;
  return Object.keys(patch).length ? patch : undefined;
}

/** Why an existing Contabo user with the wanted email is not adopted, or `undefined`. */
export function contaboAdoptionRefusal(
  mapping: Mapping,
  existing: ContaboUser,
): string | undefined {
  if (mapping.adopt.users === "none") {
    return `conflict: Contabo user ${existing.userId} (${existing.email}) exists and adopt.users ` +
      `is none; remove it in Contabo or set adopt.users`;
  }
  if (mapping.adopt.users === "non-admin" && (existing.admin || existing.accessAllResources)) {
    return `conflict: Contabo user ${existing.userId} (${existing.email}) has admin or ` +
      `accessAllResources and is not adopted; add it to protectedEmails, or set adopt.users: all`;
  }
  return undefined;
}

/**
 * The changes that make Contabo hold what `desiredContaboUser` says, under the safety rules.
 *
 * @example planContaboUser(facts).changes // [{ op: "update", reduction: true, patch: { enabled: false } }]
 */
export function planContaboUser(facts: ContaboUserFacts): ContaboPlan {
  const { mapping, wanted, current, origin } = facts;
  // A protected account is never touched. A protected address the IdP user moved to is never
  // given to a user (none is made for it), but the user the sync already holds for that IdP
  // user is still brought in step, keeping its own address: disabled or deleted when the IdP
  // says so (found by the model test: "left as it is" kept a deactivated user able to log in).
  if (isProtectedEmail(mapping, current?.email)) {
    return { changes: [], note: `protected email: left as it is in Contabo` };
  }
  if (!current && isProtectedEmail(mapping, wanted?.email)) {
    return { changes: [], note: `protected email: no Contabo user is made for it` };
  }
  if (current?.owner) {
    return {
      changes: [],
      conflict:
        `conflict: Contabo user ${current.userId} is the account owner and is never changed`,
    };
  }
  const desired = desiredContaboUser(facts);
  if (desired.kind === "absent") {
    if (!current) return { changes: [] };
    if (!origin) {
      return { changes: [], note: `Contabo user ${current.userId} is not managed by the sync` };
    }
    if (origin === "created" || mapping.adopt.deleteAdopted) {
      return { changes: [{ op: "delete", userId: current.userId }] };
    }
    // Adopted and not to be deleted: take every access away instead.
    const off = contaboAccessReduction(current, {
      ...current,
      locale: current.locale ?? facts.section.locale,
      enabled: false,
      admin: false,
      accessAllResources: false,
      roles: [],
    });
    return {
      changes: off ? [{ op: "update", userId: current.userId, patch: off, reduction: true }] : [],
      note: "adopted user disabled, not deleted (adopt.deleteAdopted is false)",
    };
  }
  const want = desired.user;
  if (!current) {
    // Nobody to disable: an inactive IdP user is simply not created.
    if (!want.enabled) return { changes: [] };
    return { changes: [{ op: "create", body: want }] };
  }
  if (!origin) {
    const refusal = contaboAdoptionRefusal(mapping, current);
    if (refusal) return { changes: [], conflict: refusal };
  }
  const diff = contaboUserDiff(current, want);
  if (diff.length === 0) return { changes: [] };
  const changes: ContaboChange[] = [];
  const reduction = contaboAccessReduction(current, want);
  const full: ContaboUpdateUserBody = Object.fromEntries(diff.map((k) => [k, want[k]]));
  if (reduction) {
    changes.push({ op: "update", userId: current.userId, patch: reduction, reduction: true });
    // Whatever the reduction did not already set is written after it.
    const rest = Object.fromEntries(
      Object.entries(full).filter(([k, v]) =>
        JSON.stringify((reduction as Record<string, unknown>)[k]) !== JSON.stringify(v)
      ),
    ) as ContaboUpdateUserBody;
    if (Object.keys(rest).length) {
      changes.push({ op: "update", userId: current.userId, patch: rest, reduction: false });
    }
  } else {
    changes.push({ op: "update", userId: current.userId, patch: full, reduction: false });
  }
  return { changes };
}

/**
 * Whether an existing Contabo user is looked for by the wanted email: there is no linked user
 * to follow, and the IdP user is alive with an email. Both the worker (one search call) and
 * reconcile (the listing) look only then.
 */
export function contaboLooksUpByEmail(wanted: WantedUser | undefined): boolean {
  return !!wanted?.email && !wanted.deleted;
}

/**
 * Whether the plan takes over `current`, a user found by email that the sync did not manage
 * yet: only when the rules let it through (no conflict, no note) and the IdP user is alive.
 */
export function contaboAdopts(
  facts: Pick<ContaboUserFacts, "wanted" | "current" | "origin">,
  plan: ContaboPlan,
): boolean {
  const { wanted, current, origin } = facts;
  return !!current && !origin && !plan.note && !plan.conflict && !!wanted && !wanted.deleted;
}

/** The role ids the IdP groups named grant, sorted and de-duplicated. */
export function contaboRolesFor(section: ContaboMapping, groupNames: readonly string[]): number[] {
  const roles = new Set<number>();
  for (const [pattern, ids] of Object.entries(section.roles)) {
    if (groupNames.some((g) => matchesAny([pattern], g))) ids.forEach((id) => roles.add(id));
  }
  return [...roles].sort((a, b) => a - b);
}
