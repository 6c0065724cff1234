/**
 * WorkOS webhook signatures: `WorkOS-Signature: t=<ms>, v1=<hex HMAC-SHA256 of "<t>.<body>">`
 * with the endpoint's secret, 180 s tolerance (the WorkOS SDKs' default).
 */
import { hmacSha256, timingSafeEqual, toHex } from "../../intake/auth/hmac.ts";
import type { VerifyResult } from "../webhook_route.ts";

/** 180 seconds, as the WorkOS SDKs use. */
const TOLERANCE_MS = 180_000;

/**
 * Verifies a WorkOS delivery against its raw body.
 *
 * @param header the `WorkOS-Signature` header
 * @param nowMs current time in ms; injectable for tests
 * @example
 * const r = await verifyWorkosSignature(secret, c.req.header("workos-signature"), body);
 */
export async function verifyWorkosSignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowMs = Date.now(),
): Promise<VerifyResult> {
  if (!header) return { ok: false, reason: "missing WorkOS-Signature header" };
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [k, ...v] = part.trim().split("=");
    if (k === "t") timestamp = v.join("=");
    else if (k === "v1") signatures.push(v.join("="));
  }
  if (!timestamp || !/^\d{1,16}$/.test(timestamp) || signatures.length === 0) {
    return { ok: false, reason: "malformed WorkOS-Signature header" };
  }
  if (Math.abs(nowMs - Number(timestamp)) > TOLERANCE_MS) {
    return { ok: false, reason: "WorkOS-Signature timestamp outside the tolerance window" };
  }
  const expected = await signWorkosPayload(secret, timestamp, body);
  // Check every v1 (key rotation may send two) without stopping early.
  const matches = signatures.map((s) => timingSafeEqual(s.toLowerCase(), expected));
  return matches.includes(true) ? { ok: true } : { ok: false, reason: "signature does not match" };
}

/** The hex v1 signature of a payload; used by tests and local tooling. */
export async function signWorkosPayload(
  secret: string,
  timestamp: string,
  body: string,
): Promise<string> {
  return toHex(await hmacSha256(secret, `${timestamp}.${body}`));
}
