/**
 * `POST /events`: one event or `{"events": [...]}`, authenticated by bearer token or Standard
 * Webhooks signature, validated, stored, enqueued, answered 202 `{accepted, duplicates}`.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parseEventBatch } from "../../events/event.ts";
import { ByteBudget } from "../../http/byte_budget.ts";
import { readGuardedBody } from "../../http/read_guarded_body.ts";
import type { Logger } from "../../log.ts";
import { timingSafeEqual } from "../auth/hmac.ts";
import {
  precheckStandardWebhook,
  type StandardWebhookHeaders,
  verifyStandardWebhook,
} from "../auth/standard_webhooks.ts";
import {
  errorResponse,
  fieldIssues,
  isTransientStoreError,
  readUtf8Body,
  storeFailure,
} from "../errors.ts";
import { type IngestDeps, ingestEvents } from "../ingest.ts";

export interface EventsRouteOptions {
  eventsToken?: string;
  webhookSecret?: string;
  bodyLimitBytes: number;
  /** Bytes of signed bodies read before their signature is checked. @default a private 8 MiB */
  unauthenticatedBudget?: ByteBudget;
  /** Deadline for reading a signed body. @default 10_000 */
  bodyReadTimeoutMs?: number;
  ingest: IngestDeps;
  logger: Logger;
  /** Counts rejections by reason (metrics). */
  onRejected?: (reason: string) => void;
}

/** The request presents a Standard Webhooks signature we can check. */
const isSigned = (options: EventsRouteOptions, headers: Headers) =>
  headers.get("webhook-signature") !== null && options.webhookSecret !== undefined;

/** The bearer token matches; judged from the header alone, before any body byte is read. */
function bearerOk(options: EventsRouteOptions, headers: Headers): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(headers.get("authorization") ?? "");
  return Boolean(
    options.eventsToken && match?.[1] && timingSafeEqual(match[1], options.eventsToken),
  );
}

export function eventsRoute(options: EventsRouteOptions): Hono {
  if (!options.eventsToken && !options.webhookSecret) {
    throw new Error("eventsRoute needs eventsToken or webhookSecret");
  }
  const { logger, onRejected = () => {} } = options;
  const budget = options.unauthenticatedBudget ?? new ByteBudget();
  const app = new Hono();

  app.post(
    "/events",
    bodyLimit({
      maxSize: options.bodyLimitBytes,
      onError: (c) => {
        onRejected("too_large");
        return errorResponse(c, 413, "too_large", `body exceeds ${options.bodyLimitBytes} bytes`);
      },
    }),
    async function postEvents(c) {
      const headers = c.req.raw.headers;
      const unauthorized = (reason: string) => {
        onRejected("unauthorized");
        c.header("WWW-Authenticate", 'Bearer realm="events"');
        return errorResponse(c, 401, "unauthorized", reason);
      };
      const invalidEncoding = () => {
        onRejected("invalid_encoding");
        return errorResponse(c, 400, "invalid_encoding", "body is not valid UTF-8");
      };
      // A request that presents a signature is judged by it alone; that needs the body, read
      // under the guard. A bearer request is judged before a single body byte is read.
      const signed = isSigned(options, headers);
      if (!signed && !bearerOk(options, headers)) {
        return unauthorized("missing or wrong credentials");
      }
      let body: string | undefined;
      let deliveryId: string | undefined;
      if (signed) {
        const signature: StandardWebhookHeaders = {
          id: headers.get("webhook-id") ?? undefined,
          timestamp: headers.get("webhook-timestamp") ?? undefined,
          signature: headers.get("webhook-signature") ?? undefined,
        };
        const early = precheckStandardWebhook(signature);
        if (early) return unauthorized(early.reason);
        const read = await readGuardedBody(c.req.raw, {
          limit: options.bodyLimitBytes,
          budget,
          ...(options.bodyReadTimeoutMs ? { timeoutMs: options.bodyReadTimeoutMs } : {}),
        });
        if (!read.ok) {
          onRejected(read.error);
          if (read.status === 503) c.header("Retry-After", "1");
          return errorResponse(c, read.status, read.error, read.message);
        }
        body = decodeUtf8(read.bytes);
        if (body === undefined) return invalidEncoding();
        const verified = await verifyStandardWebhook(options.webhookSecret!, signature, body);
        if (!verified.ok) return unauthorized(verified.reason);
        deliveryId = verified.id;
      } else {
        body = await readUtf8Body(c);
      }
      if (body === undefined) return invalidEncoding();
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
        onRejected("unsupported_media_type");
        return errorResponse(c, 415, "unsupported_media_type", "send application/json");
      }
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch (e) {
        onRejected("invalid_json");
        return errorResponse(c, 400, "invalid_json", `body is not JSON: ${(e as Error).message}`);
      }
      const parsed = parseEventBatch(json);
      if (!parsed.success) {
        onRejected("invalid_event");
        return errorResponse(c, 400, "invalid_event", "the body does not hold valid events", {
          issues: fieldIssues(parsed.error),
        });
      }
      const { events } = parsed;
      const requestId = c.get("requestId" as never) as string | undefined;
      try {
        const result = await ingestEvents(options.ingest, events, {
          source: "events",
          ...(deliveryId ? { deliveryId } : {}),
          ...(requestId ? { requestId } : {}),
        });
        logger.info("events accepted", {
          requestId,
          ...result,
          eventIds: events.slice(0, 20).map((e) => e.id),
        });
        return c.json(result, 202);
      } catch (error) {
        onRejected(isTransientStoreError(error) ? "unavailable" : "store_error");
        logger.error("events not accepted: store failed", { requestId, error });
        return storeFailure(c, error);
      }
    },
  );
  return app;
}

/** The bytes as UTF-8 text, or undefined when they are not valid UTF-8. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
