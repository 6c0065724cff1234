/**
 * The mapping file's IONOS part: group privileges and resource shares, `forceSecAuth`, and what
 * offboarding does to S3 keys. IONOS was the first target, so unlike `contabo:` and `cloudflare:`
 * its keys sit at the top level of the mapping file; src/config/mapping.ts places these fields
 * there, and the file format is unchanged. Keys every target reads (`onUserDeleted`,
 * `administrators`, `protectedEmails`, `adopt`) stay in src/config/mapping.ts.
 *
 * @example
 * ```yaml
 * forceSecAuth: true
 * groups:
 *   include: ["cloud-*"]
 *   privileges:
 *     "cloud-dev*": [createDataCenter, createSnapshot]
 *   shares:
 *     cloud-devops:
 *       - { resource: 15f67991-0f51-4efc-a8ad-ef1fb31a480c, edit: true }
 * offboarding:
 *   s3Keys: deactivate
 * ```
 */
import { z } from "zod";
import { globMatch, matchesAny } from "../../config/glob.ts";
import { IONOS_PRIVILEGES, type IonosPrivilege } from "./types.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The REST page spells it createDatacenter; accept both, keep one.
const PRIVILEGE_ALIASES: Record<string, IonosPrivilege> = { createDatacenter: "createDataCenter" };

const Privilege = z.string().transform((name, ctx) => {
  const canonical = PRIVILEGE_ALIASES[name] ?? name;
  if (!(IONOS_PRIVILEGES as readonly string[]).includes(canonical)) {
    ctx.addIssue({
      code: "custom",
      message: `unknown IONOS privilege "${name}" (known: ${IONOS_PRIVILEGES.join(", ")})`,
    });
    return z.NEVER;
  }
  return canonical as IonosPrivilege;
});

/** One resource share in the mapping: the group may see (and with `edit`, change) the resource. */
const Share = z.strictObject({
  /** The IONOS resource id (datacenter, snapshot, image, ...), as `GET /um/resources` lists it. */
  resource: z.string().regex(UUID, "must be a UUID (the IONOS resource id)").transform((s) =>
    s.toLowerCase()
  ),
  /** `editPrivilege`: members may change the resource. @default false */
  edit: z.boolean().default(false),
  /** `sharePrivilege`: members may share it further. @default false */
  share: z.boolean().default(false),
});

/** The IONOS keys of the mapping file, each with its default. */
export const IonosMapping = z.strictObject({
  /** Turn on `forceSecAuth` (two-factor login) for every user the service writes. */
  forceSecAuth: z.boolean().default(false),
  groups: z.strictObject({
    /** Which IdP groups are synced to IONOS (globs on displayName). */
    include: z.array(z.string().min(1)).default(["*"]),
    privileges: z.record(z.string(), z.array(Privilege)).default({}),
    /**
     * Resource shares per IdP group (exact displayName, not a glob): each one is created,
     * changed and removed like privileges. Only shares the service set are ever removed.
     */
    shares: z.record(z.string().min(1), z.array(Share)).default({}),
  }).default({ include: ["*"], privileges: {}, shares: {} }),
  /** What happens to a user's other credentials when the account is deactivated. */
  offboarding: z.strictObject({
    /**
     * S3 keys work outside federation: `deactivate` (default) turns them off and back on at
     * reactivation (only the ones the service turned off), `delete` removes them, `keep` leaves
     * them alone.
     */
    s3Keys: z.enum(["deactivate", "delete", "keep"]).default("deactivate"),
  }).default({ s3Keys: "deactivate" }),
});
export type IonosMapping = z.infer<typeof IonosMapping>;

/**
 * The checks across IONOS keys that one field's schema cannot make; src/config/mapping.ts calls
 * it from the whole mapping's `superRefine`, so paths are from the mapping file's root.
 */
export function refineIonosMapping(mapping: IonosMapping, ctx: z.RefinementCtx): void {
  for (const [group, shares] of Object.entries(mapping.groups.shares)) {
    // A share on a group that is never synced would be silently ignored: refuse it.
    if (!matchesAny(mapping.groups.include, group)) {
      ctx.addIssue({
        code: "custom",
        path: ["groups", "shares", group],
        message: `group "${group}" is not synced (not matched by groups.include)`,
      });
    }
    const seen = new Set<string>();
    shares.forEach((share, i) => {
      if (seen.has(share.resource)) {
        ctx.addIssue({
          code: "custom",
          path: ["groups", "shares", group, i, "resource"],
          message: `resource ${share.resource} is shared with "${group}" twice`,
        });
      }
      seen.add(share.resource);
    });
  }
}

/** Privilege flags for an IdP group name: every known privilege, true where the mapping says. */
export function groupPrivileges(
  mapping: Pick<IonosMapping, "groups">,
  groupName: string,
): Record<IonosPrivilege, boolean> {
  const granted = new Set<IonosPrivilege>();
  for (const [pattern, privileges] of Object.entries(mapping.groups.privileges)) {
    if (globMatch(pattern, groupName)) privileges.forEach((p) => granted.add(p));
  }
  return Object.fromEntries(IONOS_PRIVILEGES.map((p) => [p, granted.has(p)])) as Record<
    IonosPrivilege,
    boolean
  >;
}

/** One share the mapping wants, as IONOS names its flags. */
export interface WantedShare {
  resource: string;
  edit: boolean;
  share: boolean;
}

/** The shares the mapping gives an IdP group (by exact name); empty when none. */
export function groupShares(
  mapping: Pick<IonosMapping, "groups">,
  groupName: string,
): WantedShare[] {
  return mapping.groups.shares[groupName] ?? [];
}

/** Whether the mapping sets privileges for a group name (else an adopted group keeps its own). */
export function hasMappedPrivileges(
  mapping: Pick<IonosMapping, "groups">,
  groupName: string,
): boolean {
  return Object.keys(mapping.groups.privileges).some((p) => globMatch(p, groupName));
}
