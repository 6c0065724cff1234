/**
 * A TCP proxy in front of a test Redis that counts round trips. A trip starts when the client
 * sends a command while it has every answer it asked for and no MULTI is open; commands sent
 * before their answers come (a pipeline, a MULTI ... EXEC block) belong to the same trip,
 * however TCP splits the bytes. Both directions are parsed as RESP to know that. Meant for one
 * caller at a time: concurrent callers on one connection would share trips.
 */
import net from "node:net";
import { Buffer } from "node:buffer";

export interface RoundTripProxy {
  url: string;
  /** Round trips over every connection so far. */
  trips(): number;
  /** Commands sent over every connection so far, by upper-case name. */
  commands(): string[];
  stop(): Promise<void>;
}

const CRLF = 0x0d;

/**
 * Reads one RESP value at `at`.
 * @returns the offset after it and, for an array whose first element is a bulk string, that
 *   string (a command's name); undefined when the buffer does not hold all of it yet
 */
function readValue(buf: Buffer, at: number): { end: number; head?: string } | undefined {
  const lineEnd = buf.indexOf(CRLF, at);
  if (lineEnd < 0 || lineEnd + 1 >= buf.length) return undefined;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString("latin1", at + 1, lineEnd);
  let end = lineEnd + 2;
  // RESP2 and RESP3 (ioredis 6 speaks RESP3 after HELLO 3): simple, blob and aggregate types.
  if ("+-:_,#(".includes(type)) return { end };
  const n = Number(line);
  if (type === "$" || type === "!" || type === "=") {
    if (n < 0) return { end };
    return end + n + 2 <= buf.length ? { end: end + n + 2 } : undefined;
  }
  if (!"*~>%|".includes(type)) {
    throw new Error(`round-trip proxy: unexpected RESP type '${type}'`);
  }
  // A map or an attribute holds n pairs; an attribute precedes the value it describes.
  const count = type === "%" || type === "|" ? 2 * n : n;
  let head: string | undefined;
  if (type === "|") {
    let at2 = end;
    for (let i = 0; i < count; i++) {
      const v = readValue(buf, at2);
      if (!v) return undefined;
      at2 = v.end;
    }
    return at2 < buf.length ? readValue(buf, at2) : undefined;
  }
  for (let i = 0; i < count; i++) {
    if (i === 0 && buf[end] === 0x24 /* $ */) {
      const bulkLineEnd = buf.indexOf(CRLF, end);
      if (bulkLineEnd < 0) return undefined;
      const len = Number(buf.toString("latin1", end + 1, bulkLineEnd));
      if (bulkLineEnd + 2 + len <= buf.length) {
        head = buf.toString("latin1", bulkLineEnd + 2, bulkLineEnd + 2 + len).toUpperCase();
      }
    }
    const v = readValue(buf, end);
    if (!v) return undefined;
    end = v.end;
  }
  return head === undefined ? { end } : { end, head };
}

/** Feeds chunks; calls `onValue` once per complete top-level RESP value. */
function respReader(onValue: (head: string | undefined) => void): (chunk: Buffer) => void {
  let pending: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const v = at < pending.length ? readValue(pending, at) : undefined;
      if (!v) break;
      at = v.end;
      onValue(v.head);
    }
    pending = pending.subarray(at);
  };
}

/**
 * @example
 * const proxy = await startRoundTripProxy(redis.port);
 * const before = proxy.trips(); await work(proxy.url); const used = proxy.trips() - before;
 */
export async function startRoundTripProxy(redisPort: number): Promise<RoundTripProxy> {
  let trips = 0;
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(redisPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    let awaiting = 0;
    let inMulti = false;
    const fromClient = respReader((name = "?") => {
      if (awaiting === 0 && !inMulti) trips++;
      awaiting++;
      commands.push(name);
      if (name === "MULTI") inMulti = true;
      if (name === "EXEC" || name === "DISCARD") inMulti = false;
    });
    const fromRedis = respReader(() => awaiting--);
    client.on("data", (chunk: Buffer) => {
      fromClient(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      fromRedis(chunk);
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", close).on("error", close);
    upstream.on("close", close).on("error", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    trips: () => trips,
    commands: () => [...commands],
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
