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
import { errorResponse, readUtf8Body, storeFailure } from "../intake/errors.ts";
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
}

/**
 * Builds the route.
 *
 * @example
 * app.route("/", webhookRoute({ source: "workos", path: "/hooks/workos", verify, map, ... }));
 */
export function webhookRoute(options: WebhookRouteOptions): Hono {
  const { source, logger, prefix = "sync", bodyLimitBytes = 1024 * 1024 } = options;
  const app = new Hono();
  app.post(
    options.path,
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: (c) => errorResponse(c, 413, "too_large", `body exceeds ${bodyLimitBytes} bytes`),
    }),
    async function receiveWebhook(c) {
      const body = await readUtf8Body(c);
      if (body === undefined) {
        return errorResponse(c, 400, "invalid_encoding", "body is not valid UTF-8");
      }
      const verified = await options.verify(c.req.raw.headers, body);
      if (!verified.ok) {
        logger.warn(`${source} webhook refused`, { reason: verified.reason });
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
