/**
 * `listen()` over real sockets (finding 10 of issue 10): `Deno.serve` alone has no header or
 * idle timeout, so a half-sent request head or a silent connection was held for ever.
 */
import { afterEach, describe, expect, it } from "vitest";
import { listen, type Listener } from "../../src/http/serve.ts";
import { createLogger } from "../../src/log.ts";

const HEADER_MS = 400;
const IDLE_MS = 600;
let http: Listener | undefined;
const conns: Deno.TcpConn[] = [];

afterEach(async () => {
  for (const c of conns.splice(0)) {
    try {
      c.close();
    } catch { /* closed by the server */ }
  }
  await http?.shutdown();
  http = undefined;
});

function start(handler: (req: Request) => Response | Promise<Response>) {
  http = listen({
    port: 0,
    hostname: "127.0.0.1",
    logger: createLogger({ level: "silent" }),
    headerTimeoutMs: HEADER_MS,
    idleTimeoutMs: IDLE_MS,
  });
  http.setHandler(handler);
  return http;
}

async function connect(): Promise<Deno.TcpConn> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port: http!.port });
  conns.push(c);
  return c;
}

const send = (c: Deno.TcpConn, text: string) => c.write(new TextEncoder().encode(text));

/** Resolves with the ms until the server closed the connection, or "open" after `ms`. */
async function closedWithin(c: Deno.TcpConn, ms: number): Promise<number | "open"> {
  const started = Date.now();
  const buf = new Uint8Array(65536);
  const deadline = started + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return "open";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      c.read(buf).catch(() => null),
      new Promise<"wait">((r) => timer = setTimeout(() => r("wait"), left)),
    ]);
    clearTimeout(timer);
    if (n === "wait") return "open";
    if (n === null) return Date.now() - started;
  }
}

describe("listen()", () => {
  it("closes a connection that never sends anything after the idle timeout", async () => {
    start(() => new Response("ok"));
    const c = await connect();
    expect(await closedWithin(c, 3000)).toBeLessThan(IDLE_MS + 500);
  });

  it("closes a trickled request head after the header timeout, whatever keeps coming", async () => {
    start(() => new Response("ok"));
    const c = await connect();
    await send(c, "GET / HTTP/1.1\r\n");
    const trickle = setInterval(() => send(c, "X-A: b\r\n").catch(() => {}), 100);
    try {
      expect(await closedWithin(c, 3000)).toBeLessThan(HEADER_MS + 500);
    } finally {
      clearInterval(trickle);
    }
  });

  it("closes an idle keep-alive connection after the idle timeout", async () => {
    start(() => new Response("ok"));
    const c = await connect();
    await send(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const buf = new Uint8Array(1024);
    const n = await c.read(buf);
    expect(new TextDecoder().decode(buf.subarray(0, n ?? 0))).toMatch(/^HTTP\/1\.1 200/);
    expect(await closedWithin(c, 3000)).toBeLessThan(IDLE_MS + 500);
  });

  it("does not cut a request whose handler takes longer than both timeouts", async () => {
    start(async () => {
      await new Promise((r) => setTimeout(r, IDLE_MS + HEADER_MS));
      return new Response("slow but fine");
    });
    const res = await fetch(`${http!.url}/`);
    expect(await res.text()).toBe("slow but fine");
  });

  it("does not cut a long answer that keeps streaming", async () => {
    start(() => {
      let i = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(ctrl) {
          await new Promise((r) => setTimeout(r, 100));
          if (i++ === 15) return ctrl.close(); // 1.5 s in all, longer than IDLE_MS
          ctrl.enqueue(new TextEncoder().encode("."));
        },
      });
      return new Response(body);
    });
    const res = await fetch(`${http!.url}/`);
    expect(await res.text()).toBe(".".repeat(15));
  });

  it("keeps a request in progress after 100 Continue, however slow its body", async () => {
    start(async (req) => new Response(`got ${(await req.text()).length}`));
    const c = await connect();
    await send(
      c,
      "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    );
    const buf = new Uint8Array(1024);
    const n = await c.read(buf);
    expect(new TextDecoder().decode(buf.subarray(0, n ?? 0))).toMatch(/^HTTP\/1\.1 100/);
    await new Promise((r) => setTimeout(r, IDLE_MS + HEADER_MS));
    await send(c, "hello");
    const m = await c.read(buf);
    expect(new TextDecoder().decode(buf.subarray(0, m ?? 0))).toMatch(
      /^HTTP\/1\.1 200[\s\S]*got 5$/,
    );
  });

  it("serves the starting answers until a handler is set", async () => {
    http = listen({ port: 0, hostname: "127.0.0.1", logger: createLogger({ level: "silent" }) });
    const health = await fetch(`${http.url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: "ok", starting: true }]);
    const ready = await fetch(`${http.url}/readyz`);
    expect(ready.status).toBe(503);
    await ready.body?.cancel();
  });
});
