/**
 * One signed-webhook endpoint of an identity provider: raw body -> signature check -> JSON ->
 * provider mapping -> `ingestEvents` -> 202 `{accepted, duplicates}`. The WorkOS and Keycloak
 * adapters differ only in `verify` and `map`.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Redis } from "ioredis";
import type { SyncEvent } from "../events/event.ts";
import type { EventSource, IngestDeps } from "../intake/ingest.ts";
import { ingestEvents } from "../intake/ingest.ts";
import { errorResponse, storeFailure } from "../intake/errors.ts";
import { ByteBudget } from "../http/byte_budget.ts";
import { readGuardedBody } from "../http/read_guarded_body.ts";
import type { Logger } from "../log.ts";
import type { WantedStateStore } from "../store/wanted_state.ts";
import { countUnknownEvent } from "./unknown_events.ts";

/** What a provider payload means for us. */
export type MapResult =
  | { kind: "events"; events: SyncEvent[] }
  /** A type we acknowledge and count but don't act on. */
  | { kind: "ignored"; type: string }
  /** A type we act on, but the payload is unusable (no id, no email, ...). */
  | { kind: "invalid"; detail: string };

/** What a signature check concludes; `reason` is answered to the caller with the 401. */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

export interface MapContext {
  /** The wanted state, for providers that send partial updates. */
  store: WantedStateStore;
  rawBody: string;
}

export interface WebhookRouteOptions {
  source: Extract<EventSource, "workos" | "keycloak">;
  /** The route path, e.g. `/hooks/workos`. */
  path: string;
  verify: (headers: Headers, rawBody: string) => Promise<VerifyResult>;
  map: (payload: unknown, context: MapContext) => MapResult | Promise<MapResult>;
  ingest: IngestDeps;
  /** For the unknown-event counter. */
  redis: Redis;
  /** @default "sync" */
  prefix?: string;
  logger: Logger;
  /** @default 1 MiB */
  bodyLimitBytes?: number;
  /** Bytes read before the signature is checked, shared process-wide. @default a private 8 MiB */
  unauthenticatedBudget?: ByteBudget;
  /** Deadline for reading the body. @default 10_000 */
  bodyReadTimeoutMs?: number;
}

/**
 * Builds the route.
 *
 * @example
 * app.route("/", webhookRoute({ source: "workos", path: "/hooks/workos", verify, map, ... }));
 */
export function webhookRoute(options: WebhookRouteOptions): Hono {
  const { source, logger, prefix = "sync", bodyLimitBytes = 1024 * 1024 } = options;
  const budget = options.unauthenticatedBudget ?? new ByteBudget();
  const app = new Hono();
  app.post(
    options.path,
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: (c) => errorResponse(c, 413, "too_large", `body exceeds ${bodyLimitBytes} bytes`),
    }),
    async function receiveWebhook(c) {
      // The sender is unknown until the signature over the body is checked: read it only when
      // its declared length fits, the process-wide budget has room, and before a deadline.
      const read = await readGuardedBody(c.req.raw, {
        limit: bodyLimitBytes,
        budget,
        ...(options.bodyReadTimeoutMs ? { timeoutMs: options.bodyReadTimeoutMs } : {}),
      });
      if (!read.ok) {
        if (read.status === 503) c.header("Retry-After", "1");
        return errorResponse(c, read.status, read.error, read.message);
      }
      let body: string;
      try {
        body = new TextDecoder("utf-8", { fatal: true }).decode(read.bytes);
      } catch {
        return errorResponse(c, 400, "invalid_encoding", "body is not valid UTF-8");
      }
      const verified = await options.verify(c.req.raw.headers, body);
      if (!verified.ok) {
        // Counted and logged once a minute per route by the app's refusal log, not per request.
        logger.debug(`${source} webhook refused`, { reason: verified.reason });
        return errorResponse(c, 401, "unauthorized", verified.reason);
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch (e) {
        return errorResponse(c, 400, "invalid_json", `body is not JSON: ${(e as Error).message}`);
      }
      try {
        const mapped = await options.map(payload, { store: options.ingest.store, rawBody: body });
        if (mapped.kind === "invalid") {
          logger.warn(`${source} webhook not usable`, { detail: mapped.detail });
          return errorResponse(c, 400, "invalid_event", mapped.detail);
        }
        if (mapped.kind === "ignored") {
          await countUnknownEvent(options.redis, source, mapped.type, prefix);
          logger.debug(`${source} event ignored`, { type: mapped.type });
          return c.json({ accepted: 0, duplicates: 0, ignored: 1 }, 202);
        }
        const result = await ingestEvents(options.ingest, mapped.events, { source });
        logger.info(`${source} events accepted`, {
          ...result,
          eventIds: mapped.events.map((e) => e.id),
        });
        return c.json(result, 202);
      } catch (error) {
        logger.error(`${source} events not accepted: store failed`, { error });
        return storeFailure(c, error);
      }
    },
  );
  return app;
}
