/**
 * Standard Webhooks: signing and verifying by the `standardwebhooks` library, with our own header
 * precheck in front. The reference values are the library's own test vector
 * (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts, "sign function
 * works"), so they do not come from the code under test.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  precheckStandardWebhook,
  signStandardWebhook,
  standardWebhookVerifier,
} from "../../src/intake/auth/standard_webhooks.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TIMESTAMP = "1614265330";
const BODY = '{"test": 2432232314}';
const SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

describe("Standard Webhooks", () => {
  beforeEach(() => {
    // The vector's time, for the library's clock and ours alike.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Number(TIMESTAMP) * 1000 + 30_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("signs as the reference vector says", () => {
    expect(signStandardWebhook(SECRET, ID, TIMESTAMP, BODY)).toBe(SIGNATURE);
  });

  it("accepts the reference delivery, also among other signatures (key rotation)", () => {
    const verify = standardWebhookVerifier(SECRET);
    const headers = { id: ID, timestamp: TIMESTAMP, signature: SIGNATURE };
    expect(verify(headers, BODY)).toEqual({ ok: true, id: ID });
    const rotated = `v1,${btoa("x".repeat(32))} v2,${SIGNATURE.slice(3)} ${SIGNATURE}`;
    expect(verify({ ...headers, signature: rotated }, BODY)).toEqual({ ok: true, id: ID });
  });

  const refusals: [string, Record<string, string | undefined>, string, string][] = [
    ["another body", {}, "{}", "signature does not match"],
    ["another id", { id: "msg_other" }, BODY, "signature does not match"],
    [
      "another version",
      { signature: SIGNATURE.replace("v1,", "v2,") },
      BODY,
      "signature does not match",
    ],
    [
      "no webhook-id",
      { id: undefined },
      BODY,
      "missing webhook-id, webhook-timestamp or webhook-signature",
    ],
    [
      "an empty signature",
      { signature: "" },
      BODY,
      "missing webhook-id, webhook-timestamp or webhook-signature",
    ],
    [
      "a timestamp with trailing text",
      { timestamp: `${TIMESTAMP}abc` },
      BODY,
      "malformed webhook-timestamp",
    ],
    [
      "a stale timestamp",
      { timestamp: String(Number(TIMESTAMP) - 600) },
      BODY,
      "webhook-timestamp outside the tolerance window",
    ],
  ];
  it.each(refusals)("refuses %s with a clear reason", (_name, changed, body, reason) => {
    const headers = { id: ID, timestamp: TIMESTAMP, signature: SIGNATURE, ...changed };
    expect(standardWebhookVerifier(SECRET)(headers, body)).toEqual({ ok: false, reason });
  });

  it("refuses stale or half-signed headers before any body is read", () => {
    const now = Number(TIMESTAMP);
    const full = { id: ID, timestamp: TIMESTAMP, signature: SIGNATURE };
    expect(precheckStandardWebhook(full, now)).toBeUndefined();
    expect(precheckStandardWebhook({ ...full, signature: undefined }, now)?.reason)
      .toBe("missing webhook-id, webhook-timestamp or webhook-signature");
    expect(precheckStandardWebhook(full, now + 301)?.reason)
      .toBe("webhook-timestamp outside the tolerance window");
  });
});
