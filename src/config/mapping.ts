/**
 * The mapping file (`SYNC_CONFIG`, JSON or YAML): how IdP users and groups become IONOS ones.
 * Validated strictly at start-up, so a typo in a key or a privilege name stops the service.
 */
import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { IONOS_PRIVILEGES, type IonosPrivilege } from "../targets/ionos/types.ts";
import { CloudflareMapping, DEFAULT_CLOUDFLARE_MAPPING } from "../targets/cloudflare/mapping.ts";
import { ContaboMapping, DEFAULT_CONTABO_MAPPING } from "../targets/contabo/mapping.ts";
import { TARGET_NAMES } from "../targets/target.ts";

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

export const Mapping = z.strictObject({
  /**
   * The clouds changes go to (src/targets/target.ts). Each one listed needs its settings
   * (src/targets/settings.ts) and may have its own section below.
   */
  targets: z.array(z.enum(TARGET_NAMES)).min(1, "list at least one target")
    .refine((t) => new Set(t).size === t.length, "a target is listed twice")
    .default(["ionos"]),
  /** Contabo: roles from IdP groups (src/targets/contabo/mapping.ts). */
  contabo: ContaboMapping.default(DEFAULT_CONTABO_MAPPING),
  /** Cloudflare: member roles, user groups and their policies (src/targets/cloudflare/mapping.ts). */
  cloudflare: CloudflareMapping.default(DEFAULT_CLOUDFLARE_MAPPING),
  /** What `user.deleted` does in IONOS. */
  onUserDeleted: z.enum(["delete", "deactivate"]).default("delete"),
  forceSecAuth: z.boolean().default(false),
  /** Members of these IdP groups (names, globs allowed) become IONOS administrators. */
  administrators: z.array(z.string().min(1)).default([]),
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
  /**
   * IONOS accounts the service never adopts, changes, demotes, deactivates, deletes or moves in
   * or out of groups, whatever the IdP says. Compared normalized (see `normalizeEmail`).
   */
  protectedEmails: z.array(z.string().min(3)).default([]),
  /** What the service may do with IONOS accounts and groups it did not create. */
  adopt: z.strictObject({
    /**
     * Adopt a pre-existing IONOS user with the IdP user's email: `non-admin` adopts all but
     * administrators (those are reported as conflicts), `all` adopts any, `none` adopts none.
     */
    users: z.enum(["non-admin", "all", "none"]).default("non-admin"),
    /** Adopt a pre-existing IONOS group with exactly the IdP group's name. */
    groups: z.boolean().default(true),
    /** May an IdP delete remove an adopted IONOS user? Otherwise it is deactivated. */
    deleteAdopted: z.boolean().default(false),
  }).default({ users: "non-admin", groups: true, deleteAdopted: false }),
}).superRefine((mapping, ctx) => {
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
  // Cloudflare's members API takes no invitation without a role: say so at start-up, not later.
  if (mapping.targets.includes("cloudflare") && mapping.cloudflare.memberRoles.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["cloudflare", "memberRoles"],
      message: "required when targets lists cloudflare (account role ids for invitations)",
    });
  }
});
export type Mapping = z.infer<typeof Mapping>;

export const DEFAULT_MAPPING: Mapping = Mapping.parse({});

/** Thrown when the mapping file is unreadable or invalid; `problems` has one line each. */
export class MappingError extends Error {
  constructor(readonly problems: string[], options?: ErrorOptions) {
    super(`invalid mapping file:\n  ${problems.join("\n  ")}`, options);
    this.name = "MappingError";
  }
}

/** Parses mapping text (JSON or YAML). @throws {MappingError} */
export function parseMapping(text: string, source = "SYNC_CONFIG"): Mapping {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {}; // YAML is a superset of JSON
  } catch (cause) {
    throw new MappingError([`${source}: not valid JSON or YAML: ${(cause as Error).message}`], {
      cause,
    });
  }
  const result = Mapping.safeParse(raw);
  if (!result.success) {
    throw new MappingError(result.error.issues.map((i) => {
      const path = i.path.join(".") || "(root)";
      const keys = "keys" in i && Array.isArray(i.keys) ? `: ${i.keys.join(", ")}` : "";
      return `${source} ${path}: ${i.message}${keys}`;
    }));
  }
  return result.data;
}

/** Reads and parses the mapping file. @throws {MappingError} */
export async function loadMapping(path: string | undefined): Promise<Mapping> {
  if (!path) return DEFAULT_MAPPING;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (cause) {
    throw new MappingError([`SYNC_CONFIG: cannot read ${path}: ${(cause as Error).message}`], {
      cause,
    });
  }
  return parseMapping(text, `SYNC_CONFIG (${path})`);
}

/** Case-insensitive glob match with `*` and `?`. */
export function globMatch(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(value);
}

export const matchesAny = (patterns: readonly string[], value: string) =>
  patterns.some((p) => globMatch(p, value));

/** Privilege flags for an IdP group name: every known privilege, true where the mapping says. */
export function groupPrivileges(
  mapping: Mapping,
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

/**
 * The form in which emails are compared everywhere: trimmed, Unicode NFC, lower case. IONOS
 * compares emails case-insensitively (a second user with another case is refused with 422).
 */
export function normalizeEmail(email: string): string {
  return email.trim().normalize("NFC").toLowerCase();
}

/** Whether an email is one of `protectedEmails`, compared normalized. */
export function isProtectedEmail(mapping: Mapping, email: string | undefined): boolean {
  if (!email) return false;
  const wanted = normalizeEmail(email);
  return mapping.protectedEmails.some((p) => normalizeEmail(p) === wanted);
}

/** One share the mapping wants, as IONOS names its flags. */
export interface WantedShare {
  resource: string;
  edit: boolean;
  share: boolean;
}

/** The shares the mapping gives an IdP group (by exact name); empty when none. */
export function groupShares(mapping: Mapping, groupName: string): WantedShare[] {
  return mapping.groups.shares[groupName] ?? [];
}

/** Whether the mapping sets privileges for a group name (else an adopted group keeps its own). */
export function hasMappedPrivileges(mapping: Mapping, groupName: string): boolean {
  return Object.keys(mapping.groups.privileges).some((p) => globMatch(p, groupName));
}
