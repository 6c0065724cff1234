/**
 * Keycloak webhook signatures, as the p2-inc keycloak-events plugin sends them:
 * `X-Keycloak-Signature: <hex HMAC-SHA256 of the raw body>` with the webhook's shared secret.
 * The scheme has no timestamp, so a captured delivery could be replayed; de-duplication by the
 * event's `uid` makes a replay a no-op.
 */
import { hmacSha256, timingSafeEqual, toHex } from "../../intake/auth/hmac.ts";
import type { VerifyResult } from "../webhook_route.ts";

/**
 * Verifies a Keycloak delivery against its raw body.
 *
 * @param header the `X-Keycloak-Signature` header (a `sha256=` prefix is tolerated)
 * @example
 * const r = await verifyKeycloakSignature(secret, c.req.header("x-keycloak-signature"), body);
 */
export async function verifyKeycloakSignature(
  secret: string,
  header: string | undefined,
  body: string,
): Promise<VerifyResult> {
  if (!header) return { ok: false, reason: "missing X-Keycloak-Signature header" };
  const given = header.trim().replace(/^sha256=/i, "").toLowerCase();
  const expected = await signKeycloakPayload(secret, body);
  return timingSafeEqual(given, expected)
    ? { ok: true }
    : { ok: false, reason: "signature does not match" };
}

/** The hex signature of a body; used by tests and local tooling. */
export async function signKeycloakPayload(secret: string, body: string): Promise<string> {
  return toHex(await hmacSha256(secret, body));
}
