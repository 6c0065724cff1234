/**
 * The mapping file (`SYNC_CONFIG`, JSON or YAML): how IdP users and groups become target ones.
 * Validated strictly at start-up, so a typo in a key or a privilege name stops the service. Each
 * target's own keys are defined in its folder (src/targets/<name>/mapping.ts); this module puts
 * them together and holds the keys every target reads (`onUserDeleted`, `administrators`,
 * `protectedEmails`, `adopt`).
 */
import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { CloudflareMapping, DEFAULT_CLOUDFLARE_MAPPING } from "../targets/cloudflare/mapping.ts";
import { ContaboMapping, DEFAULT_CONTABO_MAPPING } from "../targets/contabo/mapping.ts";
import { IonosMapping, refineIonosMapping } from "../targets/ionos/mapping.ts";
import { TARGET_NAMES } from "../targets/target.ts";

export { globMatch, matchesAny } from "./glob.ts";
// The IONOS helpers' home is src/targets/ionos/mapping.ts; they are re-exported here because
// tests and tools read them beside `parseMapping`.
export {
  groupPrivileges,
  groupShares,
  hasMappedPrivileges,
  type WantedShare,
} from "../targets/ionos/mapping.ts";

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
  /** IONOS: 2FA on written users (src/targets/ionos/mapping.ts). */
  forceSecAuth: IonosMapping.shape.forceSecAuth,
  /** Members of these IdP groups (names, globs allowed) become IONOS administrators. */
  administrators: z.array(z.string().min(1)).default([]),
  /** IONOS: which IdP groups are synced, their privileges and resource shares. */
  groups: IonosMapping.shape.groups,
  /** IONOS: what happens to a user's S3 keys when the account is deactivated. */
  offboarding: IonosMapping.shape.offboarding,
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
  refineIonosMapping(mapping, ctx);
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
