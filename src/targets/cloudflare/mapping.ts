/**
 * The mapping file's `cloudflare:` section. Cloudflare members join by invitation: an invited
 * person is `pending` until they accept, and what they may do comes from the account roles they
 * are invited with (`memberRoles`) and from the user groups they are in. A user group gets the
 * policies the mapping names for its IdP group.
 *
 * @example
 * ```yaml
 * targets: [ionos, cloudflare]
 * cloudflare:
 *   memberRoles: ["05784afa30c1afe1440e79d9351c7430"]   # e.g. a read-only role id
 *   groups:
 *     include: ["cf-*"]
 *     policies:
 *       "cf-dns-*":
 *         - access: allow
 *           permissionGroups: ["c8fed203ed3043cba015a93ad1616f1f"]
 *           resourceGroups: ["6d7f2f5f5b1d4a0e9081fdc98d432fd1"]
 * ```
 */
import { z } from "zod";

const Hex32 = z.string().regex(/^[0-9a-f]{32}$/i, "must be a 32-hex-digit Cloudflare id");

const Policy = z.strictObject({
  access: z.enum(["allow", "deny"]).default("allow"),
  permissionGroups: z.array(Hex32).min(1),
  resourceGroups: z.array(Hex32).min(1),
});

export const CloudflareMapping = z.strictObject({
  /** Account role ids every invited member gets (the members API asks for at least one). */
  memberRoles: z.array(Hex32).default([]),
  groups: z.strictObject({
    /** Which IdP groups become Cloudflare user groups (globs on displayName). */
    include: z.array(z.string().min(1)).default([]),
    /** IdP group (globs) -> policies of its user group. */
    policies: z.record(z.string().min(1), z.array(Policy)).default({}),
  }).default({ include: [], policies: {} }),
});
export type CloudflareMapping = z.infer<typeof CloudflareMapping>;

export const DEFAULT_CLOUDFLARE_MAPPING: CloudflareMapping = CloudflareMapping.parse({});
