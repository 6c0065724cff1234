/**
 * Standard Webhooks signature verification (https://www.standardwebhooks.com): HMAC-SHA256 over
 * "<webhook-id>.<webhook-timestamp>.<body>" with the base64 secret after `whsec_`.
 */
import { fromBase64, hmacSha256, timingSafeEqual, toBase64 } from "./hmac.ts";

export interface StandardWebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type VerifyResult = { ok: true; id: string } | { ok: false; reason: string };

/** @default 5 minutes, as the specification recommends. */
export const STANDARD_WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * The checks that need no body: headers present, timestamp within the tolerance. Run before
 * reading the body, so a stale or half-signed request costs no read.
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

/**
 * Verifies a Standard Webhooks delivery.
 *
 * @param secret `whsec_<base64>`
 * @param nowSeconds current unix time; injectable for tests
 * @example
 * const r = await verifyStandardWebhook(secret, { id, timestamp, signature }, rawBody);
 * if (!r.ok) return c.json({ error: r.reason }, 401);
 */
export async function verifyStandardWebhook(
  secret: string,
  headers: StandardWebhookHeaders,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = STANDARD_WEBHOOK_TOLERANCE_SECONDS,
): Promise<VerifyResult> {
  const refused = precheckStandardWebhook(headers, nowSeconds, toleranceSeconds);
  if (refused) return refused;
  const { id, timestamp, signature } = headers as { [K in keyof StandardWebhookHeaders]: string };
  const expected = toBase64(await signStandardWebhookBytes(secret, id, timestamp, body));
  // The header may carry several space-separated signatures (key rotation); any match will do.
  const matches = signature.split(" ").some((part) => {
    const [version, sig] = part.split(",", 2);
    return version === "v1" && sig !== undefined && timingSafeEqual(sig, expected);
  });
  return matches ? { ok: true, id } : { ok: false, reason: "signature does not match" };
}

async function signStandardWebhookBytes(
  secret: string,
  id: string,
  timestamp: string,
  body: string,
): Promise<Uint8Array> {
  const key = fromBase64(secret.replace(/^whsec_/, ""));
  return await hmacSha256(key, `${id}.${timestamp}.${body}`);
}

/** Builds a `webhook-signature` header value; used by tests, benchmarks and the dev banner. */
export async function signStandardWebhook(
  secret: string,
  id: string,
  timestamp: string,
  body: string,
): Promise<string> {
  return `v1,${toBase64(await signStandardWebhookBytes(secret, id, timestamp, body))}`;
}
