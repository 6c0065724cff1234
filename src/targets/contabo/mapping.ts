/**
 * The mapping file's `contabo:` section. Contabo has no groups: what an IdP group grants is a
 * set of Contabo role ids on each of its members, and optionally `accessAllResources`.
 *
 * @example
 * ```yaml
 * targets: [ionos, contabo]
 * administrators: ["cloud-admins"]   # these get Contabo's `admin` flag
 * contabo:
 *   roles:
 *     "ops-*": [101, 102]            # members of any ops-* group get roles 101 and 102
 *   accessAllResources: ["ops-leads"]
 *   totp: true
 * ```
 */
import { z } from "zod";

export const ContaboMapping = z.strictObject({
  /** IdP group name (globs allowed) -> Contabo role ids its members get. */
  roles: z.record(z.string().min(1), z.array(z.number().int().positive())).default({}),
  /** Members of these IdP groups (globs) get `accessAllResources`. */
  accessAllResources: z.array(z.string().min(1)).default([]),
  /**
   * Require two-factor login for users the service manages. Never switches off a 2FA a person
   * turned on themselves.
   */
  totp: z.boolean().default(false),
  /** Locale for new users (the API takes de-DE, de, en-US, en). */
  locale: z.enum(["de-DE", "de", "en-US", "en"]).default("en"),
});
export type ContaboMapping = z.infer<typeof ContaboMapping>;

export const DEFAULT_CONTABO_MAPPING: ContaboMapping = ContaboMapping.parse({});
