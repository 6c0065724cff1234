/**
 * What IONOS should hold for a wanted user or group: the mapping from wanted state to IONOS
 * properties, in one place. The sync steps write it; reconcile compares IONOS against it, so the
 * two can never disagree about what drift is.
 */
import {
  groupPrivileges,
  isProtectedEmail,
  type Mapping,
  matchesAny,
} from "../src/config/mapping.ts";
import {
  IONOS_PRIVILEGES,
  type IonosGroupProperties,
  type IonosUserProperties,
} from "../src/ionos/types.ts";
import type { WantedGroup, WantedUser } from "../src/store/wanted_state.ts";

/** The user properties the worker would write, given the user's current IONOS properties. */
export function desiredUser(
  mapping: Mapping,
  wanted: WantedUser,
  isAdmin: boolean,
  now: IonosUserProperties | undefined,
): Omit<IonosUserProperties, "secAuthActive"> {
  const email = wanted.email!;
  const protectedUser = isProtectedEmail(mapping, email) || isProtectedEmail(mapping, now?.email);
  const local = email.split("@")[0] ?? email;
  return {
    firstname: wanted.firstName || wanted.displayName?.split(" ")[0] || local,
    lastname: wanted.lastName || wanted.displayName?.split(" ").slice(1).join(" ") || local,
    email,
    administrator: isAdmin || (protectedUser && !!now?.administrator),
    forceSecAuth: mapping.forceSecAuth || !!now?.forceSecAuth,
    active: wanted.active || (protectedUser && !!now?.active),
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

/** Property names that differ (email compared case-insensitively). */
export function userDiff(
  current: IonosUserProperties,
  desired: Omit<IonosUserProperties, "secAuthActive">,
): (typeof COMPARED[number])[] {
  return COMPARED.filter((k) =>
    k === "email"
      ? String(current.email).toLowerCase() !== String(desired.email).toLowerCase()
      : current[k] !== desired[k]
  );
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

/** The group properties the worker would write. */
export function desiredGroup(mapping: Mapping, name: string): IonosGroupProperties {
  return { name, ...groupPrivileges(mapping, name) };
}

/** "name" and/or "privileges (a, b)" where the group differs. */
export function groupDiff(current: IonosGroupProperties, desired: IonosGroupProperties): string[] {
  const diff: string[] = current.name === desired.name ? [] : ["name"];
  const privileges = IONOS_PRIVILEGES.filter((p) => !!current[p] !== desired[p]);
  if (privileges.length) diff.push(`privileges (${privileges.join(", ")})`);
  return diff;
}
