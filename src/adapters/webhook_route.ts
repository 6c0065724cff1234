/**
 * One event-intake endpoint: credentials -> raw body -> JSON -> mapping -> `ingestEvents` -> 202
 * `{accepted, duplicates}`. `POST /events` and the WorkOS and Keycloak webhooks are all built
 * here and differ only in `checkHeaders`, `verify`, `map` and a few options, so every one of
 * them guards the body, refuses and counts its refusals (`onRejected`) the same way.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Redis } from "ioredis";
import type { SyncEvent } from "../events/event.ts";
import type { EventSource, IngestDeps } from "../intake/ingest.ts";
import { ingestEvents } from "../intake/ingest.ts";
import {
  errorResponse,
  type FieldIssue,
  isTransientStoreError,
  readUtf8Body,
  storeFailure,
} from "../intake/errors.ts";
import { ByteBudget } from "../http/byte_budget.ts";
import { readGuardedBody } from "../http/read_guarded_body.ts";
import type { Logger } from "../log.ts";
import type { WantedStateStore } from "../store/wanted_state.ts";
import { countUnknownEvent } from "./unknown_events.ts";

/** What a payload means for us. */
export type MapResult =
  | { kind: "events"; events: SyncEvent[] }
  /** A type we acknowledge and count but don't act on. */
  | { kind: "ignored"; type: string }
  /** A type we act on, but the payload is unusable (no id, no email, ...). */
  | { kind: "invalid"; detail: string; issues?: FieldIssue[] };

/**
 * What a signature check over the body concludes; `reason` is answered to the caller with the
 * 401. `deliveryId` de-duplicates a whole delivery (Standard Webhooks `webhook-id`).
 */
export type VerifyResult = { ok: true; deliveryId?: string } | { ok: false; reason: string };

/** What the headers alone say about the sender, before any body byte is read. */
export type HeaderCheck =
  /** Authenticated already (a bearer token): the body is read without the guard, not verified. */
  | { kind: "authenticated" }
  /** Refused: 401 with `reason`, and the body is never read. */
  | { kind: "refused"; reason: string }
  /** Not decided yet: read the body under the guard, then `verify` it. */
  | { kind: "verify" };

export interface MapContext {
  /** The wanted state, for providers that send partial updates. */
  store: WantedStateStore;
  rawBody: string;
}

export interface WebhookRouteOptions {
  source: Extract<EventSource, "events" | "workos" | "keycloak">;
  /** The route path, e.g. `/hooks/workos`. */
  path: string;
  /** @default every request goes on to `verify` */
  checkHeaders?: ((headers: Headers) => HeaderCheck) | undefined;
  verify: (headers: Headers, rawBody: string) => VerifyResult | Promise<VerifyResult>;
  map: (payload: unknown, context: MapContext) => MapResult | Promise<MapResult>;
  ingest: IngestDeps;
  /** For the unknown-event counter. */
  redis: Redis;
  /** @default "sync" */
  prefix?: string | undefined;
  logger: Logger;
  /** @default 1 MiB */
  bodyLimitBytes?: number | undefined;
  /** Bytes read before the signature is checked, shared process-wide. @default a private 8 MiB */
  unauthenticatedBudget?: ByteBudget | undefined;
  /** Deadline for reading the body. @default 10_000 */
  bodyReadTimeoutMs?: number | undefined;
  /** `Content-Type` a body must have, else 415. @default any */
  contentType?: RegExp | undefined;
  /** `WWW-Authenticate` value sent with every 401, e.g. `Bearer realm="events"`. @default none */
  challenge?: string | undefined;
  /** Counts refusals by reason (`unauthorized`, `too_large`, ...): the metrics hook. */
  onRejected?: ((reason: string) => void) | undefined;
}

const VERIFY: HeaderCheck = { kind: "verify" };

/**
 * Builds the route.
 *
 * @example
 * app.route("/", webhookRoute({ source: "workos", path: "/hooks/workos", verify, map, ... }));
 */
export function webhookRoute(options: WebhookRouteOptions): Hono {
  const { source, logger, prefix = "sync", bodyLimitBytes = 1024 * 1024 } = options;
  const { checkHeaders = () => VERIFY, onRejected = () => {} } = options;
  const budget = options.unauthenticatedBudget ?? new ByteBudget();
  const app = new Hono();
  app.post(
    options.path,
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: (c) => {
        onRejected("too_large");
        return errorResponse(c, 413, "too_large", `body exceeds ${bodyLimitBytes} bytes`);
      },
    }),
    async function receiveEvents(c) {
      const headers = c.req.raw.headers;
      const requestId = c.get("requestId" as never) as string | undefined;
      const refuse = (status: 400 | 415, error: string, message: string) => {
        onRejected(error);
        return errorResponse(c, status, error, message);
      };
      const unauthorized = (reason: string) => {
        onRejected("unauthorized");
        // Counted and logged once a minute per route by the app's refusal log, not per request.
        logger.debug("request refused", { source, reason });
        if (options.challenge) c.header("WWW-Authenticate", options.challenge);
        return errorResponse(c, 401, "unauthorized", reason);
      };

      const early = checkHeaders(headers);
      if (early.kind === "refused") return unauthorized(early.reason);
      let body: string | undefined;
      if (early.kind === "authenticated") {
        // A known sender: no budget, no deadline; a body that cannot be read counts as not UTF-8.
        body = await readUtf8Body(c);
      } else {
        // The sender is unknown until the signature over the body is checked: read it only when
        // its declared length fits, the process-wide budget has room, and before a deadline.
        const read = await readGuardedBody(c.req.raw, {
          limit: bodyLimitBytes,
          budget,
          timeoutMs: options.bodyReadTimeoutMs,
        });
        if (!read.ok) {
          onRejected(read.error);
          if (read.status === 503) c.header("Retry-After", "1");
          return errorResponse(c, read.status, read.error, read.message);
        }
        body = decodeUtf8(read.bytes);
      }
      if (body === undefined) return refuse(400, "invalid_encoding", "body is not valid UTF-8");
      let deliveryId: string | undefined;
      if (early.kind === "verify") {
        const verified = await options.verify(headers, body);
        if (!verified.ok) return unauthorized(verified.reason);
        deliveryId = verified.deliveryId;
      }
      if (options.contentType && !options.contentType.test(c.req.header("content-type") ?? "")) {
        return refuse(415, "unsupported_media_type", "send application/json");
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch (e) {
        return refuse(400, "invalid_json", `body is not JSON: ${(e as Error).message}`);
      }
      try {
        const mapped = await options.map(payload, { store: options.ingest.store, rawBody: body });
        if (mapped.kind === "invalid") {
          logger.warn("events not usable", { source, requestId, detail: mapped.detail });
          onRejected("invalid_event");
          return errorResponse(
            c,
            400,
            "invalid_event",
            mapped.detail,
            mapped.issues ? { issues: mapped.issues } : {},
          );
        }
        if (mapped.kind === "ignored") {
          await countUnknownEvent(options.redis, source, mapped.type, prefix);
          logger.debug("event ignored", { source, type: mapped.type });
          return c.json({ accepted: 0, duplicates: 0, ignored: 1 }, 202);
        }
        const { events } = mapped;
        const result = await ingestEvents(options.ingest, events, {
          source,
          deliveryId,
          requestId,
        });
        logger.info("events accepted", {
          source,
          requestId,
          ...result,
          eventIds: events.slice(0, 20).map((e) => e.id),
        });
        return c.json(result, 202);
      } catch (error) {
        onRejected(isTransientStoreError(error) ? "unavailable" : "store_error");
        logger.error("events not accepted: store failed", { source, requestId, error });
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
