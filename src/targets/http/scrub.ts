/**
 * Removes secrets from text before it becomes part of an error or a log line. A target may echo
 * what it was sent (a form field, a header) in its error body; whatever it echoes, the
 * credentials we hold never leave this process through an error message.
 */

/** What a scrubbed secret is replaced with. */
export const REDACTED = "[redacted]";

/** Secrets shorter than this are not scrubbed: they would blank out ordinary words. */
const MIN_SECRET_LENGTH = 4;

/**
 * Replaces every occurrence of each secret (and its URL-encoded form) in `text`.
 *
 * @example scrubSecrets("bad password hunter22", ["hunter22"]) // "bad password [redacted]"
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join(REDACTED);
    }
  }
  // A bearer token we did not know of (a fresh one from the token endpoint) still has a shape.
  return out.replace(/\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`);
}
