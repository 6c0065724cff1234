/** Removes secret-looking fields from a payload before it is stored for operators. */

/** Field names dropped at any depth. SCIM never sends passwords to us, but a client might. */
const SECRET_FIELD = /password|passwd|secret|token|api[-_]?key|authorization|cookie/i;

/**
 * A deep copy of `value` without secret-looking fields. Unlike `redact` in log.ts it removes the
 * field instead of masking it (a replayed `"[redacted]"` would be sent on as data) and keeps
 * long arrays whole (a group's full member list is needed for replay).
 *
 * @example
 * stripSecrets({ id: "u1", password: "x" }); // { id: "u1" }
 */
export function stripSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== "object" || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => stripSecrets(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!SECRET_FIELD.test(k)) out[k] = stripSecrets(v, depth + 1);
  }
  return out as T;
}
