/**
 * The SCIM 2.0 service provider (RFC 7643, RFC 7644), to mount at `/scim/v2`: bearer auth, a
 * body limit, /Users, /Groups and discovery, every error as a SCIM error body.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { IngestDeps } from "../intake/ingest.ts";
import type { Logger } from "../log.ts";
import type { IonosRecords } from "../targets/ionos/records.ts";
import { scimAuth } from "./auth.ts";
import { discoveryRoutes } from "./discovery.ts";
import { ScimError, scimErrorResponse } from "./errors.ts";
import { resourceRoutes } from "./routes.ts";
import { GROUP_TYPE, USER_TYPE } from "./schema.ts";
import type { ScimStore } from "./store.ts";
import { ScimWriter } from "./writer.ts";

export interface ScimAppOptions {
  /** Bearer token clients must send (SCIM_TOKEN). */
  token: string;
  store: ScimStore;
  records: IonosRecords;
  ingest: IngestDeps;
  logger: Logger;
  /** Where the app is mounted; used for `meta.location`. @default "/scim/v2" */
  basePath?: string;
  /** @default 1 MiB */
  bodyLimitBytes?: number;
}

/**
 * The SCIM base URL of a request. Honours `X-Forwarded-Proto` / `X-Forwarded-Host`, so
 * `Location` is right behind a TLS-terminating proxy; it is only ever echoed to the caller.
 */
function baseUrlOf(basePath: string) {
  return (c: Context): string => {
    const url = new URL(c.req.url);
    const proto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim();
    const host = c.req.header("x-forwarded-host")?.split(",")[0]?.trim();
    const origin = `${proto && /^https?$/.test(proto) ? proto : url.protocol.slice(0, -1)}://${
      host && /^[\w.:[\]-]+$/.test(host) ? host : url.host
    }`;
    return `${origin}${basePath}`;
  };
}

/**
 * Builds the SCIM app.
 *
 * @throws {Error} when `token` is empty
 * @example
 * app.route("/scim/v2", scimApp({ token, store: new ScimStore(redis), records, ingest, logger }));
 */
export function scimApp(options: ScimAppOptions): Hono {
  const { logger, basePath = "/scim/v2", bodyLimitBytes = 1024 * 1024 } = options;
  const baseUrl = baseUrlOf(basePath);
  const writer = new ScimWriter({
    store: options.store,
    ingest: options.ingest,
    logger,
  });
  const app = new Hono();
  app.use("*", scimAuth(options.token));
  app.use(
    "*",
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: (c) =>
        scimErrorResponse(c, new ScimError(413, `the body exceeds ${bodyLimitBytes} bytes`)),
    }),
  );
  app.use("*", async function completeJournal(c, next) {
    // Writes complete the journal themselves (and answer 503 if they can't); reads do it on the
    // side, so journaled events don't wait for the next write when the client only polls.
    if (c.req.method === "GET") {
      await writer.flushPending().catch((error) =>
        logger.warn("scim: journal not completed", { error: error.cause ?? error })
      );
    }
    await next();
  });
  app.route("/", discoveryRoutes(baseUrl));
  const deps = { store: options.store, writer, records: options.records, baseUrl };
  app.route("/Users", resourceRoutes(USER_TYPE, deps));
  app.route("/Groups", resourceRoutes(GROUP_TYPE, deps));
  app.all("*", (c) => {
    throw new ScimError(404, `no SCIM endpoint ${c.req.method} ${c.req.path}`);
  });
  app.onError((error, c) => {
    if (error instanceof ScimError) {
      if (error.status >= 500) logger.warn("scim: store unavailable", { error: error.cause });
      return scimErrorResponse(c, error);
    }
    logger.error("scim: unhandled error", { path: c.req.path, error });
    return scimErrorResponse(c, new ScimError(500, "internal error"));
  });
  return app;
}
