/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * "<webhook-id>.<webhook-timestamp>.<body>" with the base64 secret after `whsec_`.
 *
 * The signature itself is checked and made by the reference library `standardwebhooks`
 * (https://github.com/standard-webhooks/standard-webhooks, libraries/javascript). Our own code
 * is kept in one place: {@linkcode precheckStandardWebhook}. The library's `Webhook.verify`
 * takes the body and the headers in one call, but we must refuse a stale or half-signed request
 * from its headers alone, before a single body byte is read: the sender is unknown until then,
 * and reading costs memory from the budget shared by every unauthenticated request. The
 * library has no such split (and reads the clock itself), so the header checks stay ours; the
 * library then checks the timestamp again, which our stricter precheck already passed.
 */
import { Webhook, WebhookVerificationError } from "standardwebhooks";

export interface StandardWebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type VerifyResult = { ok: true; id: string } | { ok: false; reason: string };

/** @default 5 minutes, as the specification recommends (and the library enforces). */
export const STANDARD_WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * The checks that need no body: headers present, timestamp a plain integer within the tolerance.
 * Run before reading the body, so a stale or half-signed request costs no read. Stricter than the
 * library (which takes `parseInt`, so "12abc" would pass as 12): a malformed timestamp is refused.
 *
 * @returns the refusal, or undefined when the body is worth reading
 */
export function precheckStandardWebhook(
  headers: StandardWebhookHeaders,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = STANDARD_WEBHOOK_TOLERANCE_SECONDS,
): { ok: false; reason: string } | undefined {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) {
    return { ok: false, reason: "missing webhook-id, webhook-timestamp or webhook-signature" };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed webhook-timestamp" };
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    return { ok: false, reason: "webhook-timestamp outside the tolerance window" };
  }
  return undefined;
}

/** The library's messages (standardwebhooks 1.1, `WebhookVerificationError`) in our words. */
const REASONS: Record<string, string> = {
  "No matching signature found": "signature does not match",
  "Message timestamp too old": "webhook-timestamp outside the tolerance window",
  "Message timestamp too new": "webhook-timestamp outside the tolerance window",
  "Invalid Signature Headers": "malformed webhook-timestamp",
  "Missing required headers": "missing webhook-id, webhook-timestamp or webhook-signature",
};

/**
 * A verifier for one secret; the secret is decoded once, here.
 *
 * @param secret `whsec_<base64>`
 * @throws {Error} when the secret is empty or not base64 (the library's constructor)
 * @example
 * const verify = standardWebhookVerifier(secret);
 * const r = verify({ id, timestamp, signature }, rawBody);
 * if (!r.ok) return c.json({ error: r.reason }, 401);
 */
export function standardWebhookVerifier(
  secret: string,
): (headers: StandardWebhookHeaders, body: string) => VerifyResult {
  const webhook = new Webhook(secret);
  return function verifyStandardWebhook(headers, body) {
    const refused = precheckStandardWebhook(headers);
    if (refused) return refused;
    const { id, timestamp, signature } = headers as { [K in keyof StandardWebhookHeaders]: string };
    try {
      // Several space-separated signatures (key rotation) are the library's job: any match does.
      webhook.verify(body, {
        "webhook-id": id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
      }, { jsonParse: false });
      return { ok: true, id };
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      return { ok: false, reason: REASONS[error.message] ?? "signature does not match" };
    }
  };
}

/**
 * Builds a `webhook-signature` header value; used by tests, benchmarks and the dev banner.
 * The timestamp is signed as the integer it names (the library takes a `Date`).
 */
export function signStandardWebhook(
  secret: string,
  id: string,
  timestamp: string,
  body: string,
): string {
  return new Webhook(secret).sign(id, new Date(Number(timestamp) * 1000), body);
}
