/**
 * The process's HTTP listener: bound before anything waits (so `/healthz` answers while Redis is
 * still away), handed the real app once it is built, and re-opened when accepting fails.
 *
 * The public port is guarded (conn_guard.ts: header and idle timeouts, accept errors survived)
 * and piped to `Deno.serve` on a loopback port. Why the server is re-opened too: `Deno.serve`
 * ends its accept loop on the first accept error (EMFILE, "Too many open files", seen with 1,100
 * half-sent requests under `ulimit -n 1024`), and `finished` rejects. Unhandled, that rejection
 * ended the process, workers included in role `all`. Here it is logged, and the server comes
 * back on a new loopback port once descriptors are free again.
 */
import type { Logger } from "../log.ts";
import { guardConnections } from "./conn_guard.ts";

/** A request handler, as `Deno.serve` takes it. */
export type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** Options of {@linkcode listen}. */
export interface ListenOptions {
  port: number;
  hostname: string;
  logger: Logger;
  /**
   * Wait before re-opening the listener after an accept error.
   * @default 1000
   */
  retryDelayMs?: number;
  /** A request head must arrive within this time from its first byte. @default 10_000 */
  headerTimeoutMs?: number;
  /** A connection with no request in progress is closed after this. @default 30_000 */
  idleTimeoutMs?: number;
}

/** A bound listener whose handler can be set later. */
export interface Listener {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** `http://host:port` as a client would reach it. */
  readonly url: string;
  /** From now on, requests go to `handler`; until then only the start-up answers. */
  setHandler(handler: Handler): void;
  /** Stops accepting and waits for open requests. */
  shutdown(): Promise<void>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers });

/**
 * What a starting process answers: alive on `/healthz`, not ready on `/readyz`, and 503 with
 * `Retry-After` elsewhere, so a load balancer waits and a sender retries.
 */
export function startingHandler(request: Request): Response {
  const path = new URL(request.url).pathname;
  if (path === "/healthz") return json(200, { status: "ok", starting: true });
  if (path === "/readyz") return json(503, { status: "starting" });
  return json(503, { error: "unavailable", message: "starting up" }, { "Retry-After": "1" });
}

/**
 * Binds at once and serves {@linkcode startingHandler} until `setHandler`.
 *
 * @throws {Deno.errors.AddrInUse} when the port is taken
 * @throws {RangeError} when `retryDelayMs` is negative
 * @example
 * const http = listen({ port: 8080, hostname: "0.0.0.0", logger });
 * await connectToRedis();
 * http.setHandler(app.fetch);
 */
export function listen(options: ListenOptions): Listener {
  const { hostname, logger, retryDelayMs = 1000, headerTimeoutMs, idleTimeoutMs } = options;
  if (!Number.isInteger(retryDelayMs) || retryDelayMs < 0) {
    throw new RangeError(
      `Cannot listen as 'retryDelayMs' must be a non-negative integer: current value is ${retryDelayMs}`,
    );
  }
  let handler: Handler = startingHandler;
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  // The HTTP server itself only ever talks to the guard, on loopback.
  const serve = () => {
    const s = Deno.serve({
      port: 0,
      hostname: "127.0.0.1",
      onListen: () => {},
      onError: (error) => {
        logger.error("unhandled error in request handler", { error });
        return json(500, { error: "internal", message: "internal error" });
      },
    }, (request, info) => handler(request, info));
    s.finished.catch((error: Error) => {
      if (closed) return;
      logger.error("http server failed; re-opening it", { error, retryInMs: retryDelayMs });
      reopen();
    });
    return s;
  };
  const reopen = () => {
    retry = setTimeout(() => {
      if (closed) return;
      try {
        server = serve();
        logger.info("http server re-opened", { port: server.addr.port });
      } catch (error) {
        logger.warn("http server could not re-open yet", { error: (error as Error).message });
        reopen();
      }
    }, retryDelayMs);
  };
  const publicListener = Deno.listen({ port: options.port, hostname, transport: "tcp" });
  server = serve();
  const guard = guardConnections({
    listener: publicListener,
    target: () => server!.addr,
    logger,
    acceptRetryMs: Math.max(1, retryDelayMs),
    // 0 means the default here, where the guard would refuse it.
    headerTimeoutMs: headerTimeoutMs || undefined,
    idleTimeoutMs: idleTimeoutMs || undefined,
  });
  const port = publicListener.addr.port;
  // A client cannot reach 0.0.0.0 or [::]; name the loopback for wildcard binds.
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    setHandler(h) {
      handler = h;
    },
    async shutdown() {
      closed = true;
      clearTimeout(retry);
      // No new connections; requests in progress finish; then whatever is left is closed.
      await guard.stopAccepting();
      await server?.shutdown().catch(() => {});
      await guard.close();
    },
  };
}
