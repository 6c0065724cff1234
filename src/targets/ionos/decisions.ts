/**
 * What IONOS should hold for a wanted user or group, and which safety rules apply: pure functions
 * in one place. The sync steps write what they say; reconcile compares IONOS against it, so the
 * two can never disagree about what drift is (docs/security.md lists the rules).
 */
import {
  isProtectedEmail,
  type Mapping,
  matchesAny,
  normalizeEmail,
} from "../../config/mapping.ts";
import { groupPrivileges, hasMappedPrivileges } from "./mapping.ts";
import {
  IONOS_PRIVILEGES,
  type IonosGroupProperties,
  type IonosPrivilege,
  type IonosUser,
  type IonosUserProperties,
} from "./types.ts";
import type { WantedGroup, WantedUser } from "../../store/wanted_state.ts";

/** User properties the service writes (`secAuthActive` is IONOS's to set). */
export type DesiredUser = Omit<IonosUserProperties, "secAuthActive">;

/**
 * The user properties the worker would write, given the user's current IONOS properties.
 * `email` is the address to write: the wanted one, or the current one where the wanted one may
 * not be taken (protected, or bound to another IdP user).
 */
export function desiredUser(
  mapping: Mapping,
  wanted: WantedUser,
  isAdmin: boolean,
  now: IonosUserProperties | undefined,
  email: string = wanted.email!,
): DesiredUser {
  const local = email.split("@")[0] ?? email;
  return {
    firstname: wanted.firstName || wanted.displayName?.split(" ")[0] || local,
    lastname: wanted.lastName || wanted.displayName?.split(" ").slice(1).join(" ") || local,
    email,
    administrator: isAdmin,
    forceSecAuth: mapping.forceSecAuth || !!now?.forceSecAuth,
    active: wanted.active,
  };
}

const COMPARED = [
  "firstname",
  "lastname",
  "email",
  "administrator",
  "forceSecAuth",
  "active",
] as const;

/** Property names that differ (email compared normalized). */
export function userDiff(
  current: IonosUserProperties,
  desired: DesiredUser,
): (typeof COMPARED[number])[] {
  return COMPARED.filter((k) =>
    k === "email"
      ? normalizeEmail(String(current.email)) !== normalizeEmail(String(desired.email))
      : current[k] !== desired[k]
  );
}

/**
 * Removal wins: the current properties with only the access reductions of `desired` applied
 * (deactivate, remove administrator), or `undefined` when there is no reduction or nothing else
 * changes (then the one full write is the reduction). Written first and on its own, so that a
 * failure of the rest (a 422 on an email clash) never blocks taking access away.
 */
export function accessReduction(
  current: IonosUserProperties,
  desired: DesiredUser,
): IonosUserProperties | undefined {
  const active = current.active && !desired.active;
  const administrator = current.administrator && !desired.administrator;
  if (!active && !administrator) return undefined;
  const reduced: IonosUserProperties = {
    ...current,
    active: active ? false : current.active,
    administrator: administrator ? false : current.administrator,
  };
  return userDiff(reduced, desired).length === 0 ? undefined : reduced;
}

/** Whether any of the user's current groups makes them an IONOS administrator. */
export function isAdministrator(
  mapping: Mapping,
  groupIds: string[],
  groups: Map<string, WantedGroup>,
): boolean {
  if (mapping.administrators.length === 0) return false;
  return groupIds.some((gid) => {
    const g = groups.get(gid);
    return !!g && !g.deleted && matchesAny(mapping.administrators, g.displayName);
  });
}

/** What `user.deleted` does to an IONOS account the service manages. */
export function userRemoval(
  mapping: Mapping,
  origin: "created" | "adopted" | undefined,
): "delete" | "deactivate" {
  if (mapping.onUserDeleted === "deactivate") return "deactivate";
  // An account the service did not create is only deleted when the mapping allows it.
  return origin === "adopted" && !mapping.adopt.deleteAdopted ? "deactivate" : "delete";
}

/** The properties of a deprovisioned account that is kept: no sign-in, no administrator. */
export function deactivated(current: IonosUserProperties): IonosUserProperties | undefined {
  if (!current.active && !current.administrator) return undefined;
  return { ...current, active: false, administrator: false };
}

/**
 * Why a pre-existing IONOS user with the wanted email must not be adopted, or `undefined` when
 * it may be. Protected accounts are refused before this is asked.
 */
export function userAdoptionRefusal(mapping: Mapping, existing: IonosUser): string | undefined {
  const email = existing.properties.email;
  if (mapping.adopt.users === "none") {
    return `conflict: IONOS user ${existing.id} (${email}) exists and adopt.users is none; ` +
      `remove it in IONOS or set adopt.users`;
  }
  if (mapping.adopt.users === "non-admin" && existing.properties.administrator) {
    return `conflict: IONOS user ${existing.id} (${email}) is a pre-existing administrator and ` +
      `is not adopted; add it to protectedEmails, or set adopt.users: all to let the IdP manage it`;
  }
  return undefined;
}

/** Whether an IdP email may be given to an IONOS account at all. */
export function protectedEmailConflict(mapping: Mapping, email: string): string | undefined {
  return isProtectedEmail(mapping, email)
    ? `conflict: ${email} is a protected email; no IdP user may take that IONOS account`
    : undefined;
}

/** Whether a group is synced at all (its name is in `groups.include`). */
export function groupInScope(mapping: Mapping, name: string): boolean {
  return matchesAny(mapping.groups.include, name);
}

/**
 * The group properties the worker would write. A group the service did not create keeps the
 * privileges it had when it was adopted (`own`) unless the mapping names privileges for it; so
 * privileges the mapping gave it under another name are taken away again.
 */
export function desiredGroup(
  mapping: Mapping,
  name: string,
  origin: "created" | "adopted" = "created",
  own?: Partial<Record<IonosPrivilege, boolean>>,
): IonosGroupProperties {
  if (origin === "adopted" && own && !hasMappedPrivileges(mapping, name)) {
    const kept = Object.fromEntries(IONOS_PRIVILEGES.map((p) => [p, !!own[p]])) as Record<
      IonosPrivilege,
      boolean
    >;
    return { name, ...kept };
  }
  return { name, ...groupPrivileges(mapping, name) };
}

/** The privileges an adopted group had, as kept in its twin record (`ownPrivileges`). */
export function ownPrivileges(
  recorded: string | undefined,
): Partial<Record<IonosPrivilege, boolean>> | undefined {
  if (recorded === undefined) return undefined;
  const names = new Set(recorded.split(",").filter(Boolean));
  return Object.fromEntries(IONOS_PRIVILEGES.map((p) => [p, names.has(p)]));
}

/** The privilege names a group has, in the form `ownPrivileges` reads. */
export function recordPrivileges(group: IonosGroupProperties): string {
  return IONOS_PRIVILEGES.filter((p) => group[p]).join(",");
}

/**
 * Removal wins for groups: the current properties with only the privileges `desired` takes away,
 * or `undefined` when there is none or nothing else changes.
 */
export function privilegeReduction(
  current: IonosGroupProperties,
  desired: IonosGroupProperties,
): IonosGroupProperties | undefined {
  const dropped = IONOS_PRIVILEGES.filter((p) => !!current[p] && !desired[p]);
  if (dropped.length === 0) return undefined;
  const reduced = { ...current, ...Object.fromEntries(dropped.map((p) => [p, false])) };
  return groupDiff(reduced, desired).length === 0 ? undefined : reduced;
}

/** What happens to a group's IONOS twin when it is deleted at the IdP or goes out of scope. */
export function groupRemoval(origin: "created" | "adopted" | undefined): "delete" | "release" {
  // A group the service did not create is never deleted: its managed members are removed.
  return origin === "adopted" ? "release" : "delete";
}

/** "name" and/or "privileges (a, b)" where the group differs. */
export function groupDiff(current: IonosGroupProperties, desired: IonosGroupProperties): string[] {
  const diff: string[] = current.name === desired.name ? [] : ["name"];
  const privileges = IONOS_PRIVILEGES.filter((p) => !!current[p] !== desired[p]);
  if (privileges.length) diff.push(`privileges (${privileges.join(", ")})`);
  return diff;
}

/**
 * The membership changes a group job makes: adds for wanted members with an IONOS account,
 * removals only of members the service manages; protected accounts are never moved.
 *
 * @param wanted IONOS ids of the members the IdP wants (alive users with an account)
 * @param actual IONOS ids of the group's members now
 * @param managed which IONOS user ids the service manages
 * @param protectedIds IONOS user ids whose email is protected
 */
export function memberChanges(
  wanted: Set<string>,
  actual: Set<string>,
  managed: Set<string>,
  protectedIds: Set<string>,
): { add: string[]; remove: string[] } {
  return {
    add: [...wanted].filter((id) => !actual.has(id) && !protectedIds.has(id)),
    remove: [...actual].filter((id) => !wanted.has(id) && managed.has(id) && !protectedIds.has(id)),
  };
}
