/**
 * `POST /events`: one event or `{"events": [...]}`, authenticated by bearer token or Standard
 * Webhooks signature, validated, stored, enqueued, answered 202 `{accepted, duplicates}`.
 * Built by the same route factory as the provider webhooks (`src/adapters/webhook_route.ts`),
 * so its body guard and its refusals, counted by `onRejected`, are theirs.
 */
import type { Hono } from "hono";
import type { Redis } from "ioredis";
import { parseEventBatch } from "../../events/event.ts";
import type { ByteBudget } from "../../http/byte_budget.ts";
import type { Logger } from "../../log.ts";
import { type HeaderCheck, type MapResult, webhookRoute } from "../../adapters/webhook_route.ts";
import { bearerToken } from "../auth/bearer.ts";
import { timingSafeEqual } from "../auth/hmac.ts";
import {
  precheckStandardWebhook,
  type StandardWebhookHeaders,
  standardWebhookVerifier,
} from "../auth/standard_webhooks.ts";
import { fieldIssues } from "../errors.ts";
import type { IngestDeps } from "../ingest.ts";

export interface EventsRouteOptions {
  eventsToken?: string | undefined;
  /** `whsec_<base64>`; requests with a `webhook-signature` header are judged by it alone. */
  webhookSecret?: string | undefined;
  bodyLimitBytes: number;
  /** Bytes of signed bodies read before their signature is checked. @default a private 8 MiB */
  unauthenticatedBudget?: ByteBudget | undefined;
  /** Deadline for reading a signed body. @default 10_000 */
  bodyReadTimeoutMs?: number | undefined;
  ingest: IngestDeps;
  /** Only for the route factory's unknown-event counter, which `/events` never uses. */
  redis: Redis;
  logger: Logger;
  /** Counts rejections by reason (metrics). */
  onRejected?: ((reason: string) => void) | undefined;
}

/** `application/json` or any `+json` type. */
const JSON_MEDIA_TYPE = /^application\/([\w.+-]+\+)?json\b/i;

/**
 * @throws {Error} without `eventsToken` and `webhookSecret`: the route would accept anyone
 * @throws {Error} when `webhookSecret` is not `whsec_<base64>`
 * @example
 * app.route("/", eventsRoute({ eventsToken, bodyLimitBytes, ingest, redis, logger }));
 */
export function eventsRoute(options: EventsRouteOptions): Hono {
  const { eventsToken, webhookSecret } = options;
  if (!eventsToken && !webhookSecret) {
    throw new Error("eventsRoute needs eventsToken or webhookSecret");
  }
  const verifySignature = webhookSecret ? standardWebhookVerifier(webhookSecret) : undefined;

  // A request that presents a signature is judged by it alone; that needs the body, read under
  // the guard. A bearer request is judged before a single body byte is read.
  const checkHeaders = (headers: Headers): HeaderCheck => {
    if (verifySignature && headers.get("webhook-signature") !== null) {
      const early = precheckStandardWebhook(signatureHeaders(headers));
      return early ? { kind: "refused", reason: early.reason } : { kind: "verify" };
    }
    const token = bearerToken(headers.get("authorization"));
    return eventsToken && token !== undefined && timingSafeEqual(token, eventsToken)
      ? { kind: "authenticated" }
      : { kind: "refused", reason: "missing or wrong credentials" };
  };

  return webhookRoute({
    source: "events",
    path: "/events",
    checkHeaders,
    // Reached only for a signed request (`checkHeaders` said "verify"), so the verifier is set.
    verify: (headers, body) => {
      const verified = verifySignature!(signatureHeaders(headers), body);
      return verified.ok ? { ok: true, deliveryId: verified.id } : verified;
    },
    map: mapEvents,
    ingest: options.ingest,
    redis: options.redis,
    logger: options.logger,
    bodyLimitBytes: options.bodyLimitBytes,
    contentType: JSON_MEDIA_TYPE,
    challenge: 'Bearer realm="events"',
    unauthenticatedBudget: options.unauthenticatedBudget,
    bodyReadTimeoutMs: options.bodyReadTimeoutMs,
    onRejected: options.onRejected,
  });
}

function signatureHeaders(headers: Headers): StandardWebhookHeaders {
  return {
    id: headers.get("webhook-id") ?? undefined,
    timestamp: headers.get("webhook-timestamp") ?? undefined,
    signature: headers.get("webhook-signature") ?? undefined,
  };
}

/** Our own event format: nothing to translate, only to validate. */
function mapEvents(payload: unknown): MapResult {
  const parsed = parseEventBatch(payload);
  if (!parsed.success) {
    return {
      kind: "invalid",
      detail: "the body does not hold valid events",
      issues: fieldIssues(parsed.error),
    };
  }
  return { kind: "events", events: parsed.events };
}
