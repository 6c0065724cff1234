/**
 * Header and idle timeouts for `Deno.serve`, which has neither (denoland/deno#3515, still open;
 * checked against Deno 2.9: a half-sent request head or an idle keep-alive connection is held
 * for ever). The public port is a plain TCP listener; each connection is piped to the HTTP
 * server on a loopback port, and closed when
 * - nothing moves for `idleTimeoutMs` while no request is in progress (a connection that never
 *   sends anything, or a keep-alive connection between requests), or
 * - a request head (up to its blank line) takes longer than `headerTimeoutMs` from its first
 *   byte (slowloris).
 * Accept errors (EMFILE: out of file descriptors) are logged and retried after a pause; they
 * never end the process.
 *
 * The timeouts are deadlines checked by one sweep for all connections (every quarter of the
 * shorter timeout, at most once a second), not a timer per connection re-armed on every
 * chunk: a timer set and cleared several times per request cost about 2% of the intake's CPU
 * (issue 9). A connection is closed at most a quarter of a timeout late.
 *
 * The pipe reads HTTP/1.1 framing only this far: a head ends at the first CRLFCRLF; once the
 * server has answered, the next client byte starts the next head. A request in progress (body,
 * handler at work, response streaming) is not timed here; bodies read before authentication
 * have their own deadline (read_guarded_body.ts).
 */
import type { Logger } from "../log.ts";

/** Options of {@linkcode guardConnections}. */
export interface ConnGuardOptions {
  /** The public listener. */
  listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  /** Where the HTTP server listens (loopback); read per connection, so it may change. */
  target: () => Deno.NetAddr;
  logger: Logger;
  /** @default 10_000 */
  headerTimeoutMs?: number | undefined;
  /** @default 30_000 */
  idleTimeoutMs?: number | undefined;
  /** Pause after an accept error. @default 1000 */
  acceptRetryMs?: number;
}

/** A running guard. */
export interface ConnGuard {
  /** Connections open now. */
  readonly open: number;
  /** Stops accepting; open connections go on (let the server finish its requests first). */
  stopAccepting(): Promise<void>;
  /** Stops accepting and ends every open connection. */
  close(): Promise<void>;
}

const CRLFCRLF = [13, 10, 13, 10];

/**
 * @throws {RangeError} when a timeout is not a positive integer
 * @example
 * const guard = guardConnections({ listener: Deno.listen({ port: 8080 }), target, logger });
 */
export function guardConnections(options: ConnGuardOptions): ConnGuard {
  const {
    listener,
    target,
    logger,
    headerTimeoutMs = 10_000,
    idleTimeoutMs = 30_000,
    acceptRetryMs = 1000,
  } = options;
  for (const [name, v] of Object.entries({ headerTimeoutMs, idleTimeoutMs, acceptRetryMs })) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new RangeError(
        `Cannot guard connections as '${name}' must be a positive integer: current value is ${v}`,
      );
    }
  }
  /** Each open connection's deadline (ms, `performance.now()`), and how to end it. */
  const conns = new Map<() => void, { deadline: number }>();
  let closed = false;
  const sweepEveryMs = Math.max(
    1,
    Math.min(1000, Math.floor(Math.min(headerTimeoutMs, idleTimeoutMs) / 4)),
  );
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const [end, timing] of conns) if (now >= timing.deadline) end();
  }, sweepEveryMs);
  // The sweep alone must not keep the process alive.
  Deno.unrefTimer(sweeper);
  const loop = (async () => {
    while (!closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closed || error instanceof Deno.errors.BadResource) return;
        // EMFILE and friends: the process lives on; accept again once descriptors are free.
        logger.error("accept failed; retrying", { error, retryInMs: acceptRetryMs });
        await new Promise((r) => setTimeout(r, acceptRetryMs));
        continue;
      }
      void pipe(conn);
    }
  })();

  async function pipe(client: Deno.TcpConn): Promise<void> {
    let upstream: Deno.TcpConn;
    try {
      const { hostname, port } = target();
      upstream = await Deno.connect({ hostname, port });
    } catch {
      // Out of descriptors for the second leg, or the server is restarting: drop this one.
      client.close();
      return;
    }
    const timing = { deadline: Infinity };
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      conns.delete(end);
      for (const c of [client, upstream]) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    };
    conns.set(end, timing);
    const arm = (ms: number) => {
      timing.deadline = performance.now() + ms;
    };
    // "idle": between requests; "head": a request head is arriving; "busy": a request is in
    // progress (its body, the handler, the response).
    let phase: "idle" | "head" | "busy" = "idle";
    let matched = 0; // bytes of CRLFCRLF matched so far, across chunks
    arm(idleTimeoutMs);
    const fromClient = (chunk: Uint8Array) => {
      if (phase === "busy") return;
      if (phase === "idle") {
        phase = "head";
        matched = 0;
        arm(headerTimeoutMs); // from the head's first byte, not re-armed by later bytes
      }
      for (const b of chunk) {
        matched = b === CRLFCRLF[matched] ? matched + 1 : b === 13 ? 1 : 0;
        if (matched === 4) {
          phase = "busy";
          timing.deadline = Infinity;
          return;
        }
      }
    };
    const fromServer = (chunk: Uint8Array) => {
      // "100 Continue" (RFC 9110, 15.2.1) asks for the body: the request is still in progress.
      if (phase === "busy" && isInterim(chunk)) return;
      // The answer is under way: what the client sends next is a new request head; until then
      // the connection counts as idle, and every byte of the answer re-arms the timer.
      phase = "idle";
      arm(idleTimeoutMs);
    };
    await Promise.all([
      copy(client, upstream, fromClient),
      copy(upstream, client, fromServer),
    ]);
    end();
  }

  return {
    get open() {
      return conns.size;
    },
    async stopAccepting() {
      closed = true;
      try {
        listener.close();
      } catch { /* already closed */ }
      await loop;
    },
    async close() {
      await this.stopAccepting();
      clearInterval(sweeper);
      for (const end of [...conns.keys()]) end();
    },
  };
}

const INTERIM = new TextEncoder().encode("HTTP/1.1 1");

/** The chunk starts with an interim (1xx) status line. */
function isInterim(chunk: Uint8Array): boolean {
  return chunk.length >= INTERIM.length && INTERIM.every((b, i) => chunk[i] === b);
}

/** Copies until `from` ends, then half-closes `to`; errors end the copy quietly. */
async function copy(
  from: Deno.TcpConn,
  to: Deno.TcpConn,
  seen: (chunk: Uint8Array) => void,
): Promise<void> {
  // 16 KiB per direction: a flood of idle connections costs 32 KiB each, not megabytes.
  const buf = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      const chunk = buf.subarray(0, n);
      seen(chunk);
      for (let off = 0; off < n;) off += await to.write(chunk.subarray(off));
    }
    await to.closeWrite();
  } catch {
    // A side went away (reset, closed by a timeout): the other copy ends with it.
  }
}
