/**
 * `POST /events`: one event or `{"events": [...]}`, authenticated by bearer token or Standard
 * Webhooks signature, validated, stored, enqueued, answered 202 `{accepted, duplicates}`.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parseEventBatch } from "../../events/event.ts";
import type { Logger } from "../../log.ts";
import { timingSafeEqual } from "../auth/hmac.ts";
import { verifyStandardWebhook } from "../auth/standard_webhooks.ts";
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
  ingest: IngestDeps;
  logger: Logger;
  /** Counts rejections by reason (metrics). */
  onRejected?: (reason: string) => void;
}

type Verified = { ok: true; deliveryId?: string } | { ok: false; reason: string };

/** Accepts either credential; a request that presents a signature is judged by it alone. */
async function authenticate(
  options: EventsRouteOptions,
  headers: Headers,
  body: string,
): Promise<Verified> {
  const signature = headers.get("webhook-signature");
  if (signature !== null && options.webhookSecret) {
    const r = await verifyStandardWebhook(options.webhookSecret, {
      id: headers.get("webhook-id") ?? undefined,
      timestamp: headers.get("webhook-timestamp") ?? undefined,
      signature,
    }, body);
    return r.ok ? { ok: true, deliveryId: r.id } : r;
  }
  const auth = headers.get("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(auth);
  if (options.eventsToken && match?.[1] && timingSafeEqual(match[1], options.eventsToken)) {
    return { ok: true };
  }
  return { ok: false, reason: "missing or wrong credentials" };
}

export function eventsRoute(options: EventsRouteOptions): Hono {
  if (!options.eventsToken && !options.webhookSecret) {
    throw new Error("eventsRoute needs eventsToken or webhookSecret");
  }
  const { logger, onRejected = () => {} } = options;
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
      const body = await readUtf8Body(c);
      if (body === undefined) {
        onRejected("invalid_encoding");
        return errorResponse(c, 400, "invalid_encoding", "body is not valid UTF-8");
      }
      const auth = await authenticate(options, c.req.raw.headers, body);
      if (!auth.ok) {
        onRejected("unauthorized");
        c.header("WWW-Authenticate", 'Bearer realm="events"');
        return errorResponse(c, 401, "unauthorized", auth.reason);
      }
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
          ...(auth.deliveryId ? { deliveryId: auth.deliveryId } : {}),
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
