/**
 * The mapping file's name patterns: `*` and `?` globs on IdP group names, matched
 * case-insensitively. Every target's mapping section uses them, so they live apart from any one.
 */

/** Case-insensitive glob match with `*` and `?`. */
export function globMatch(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(value);
}

/** Whether any of `patterns` matches `value` (see `globMatch`). */
export const matchesAny = (patterns: readonly string[], value: string): boolean =>
  patterns.some((p) => globMatch(p, value));
