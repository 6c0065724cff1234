/**
 * The HTTP edge as an outsider meets it (findings 9 and 10 of issue 10), over raw sockets
 * against the real service: credentials before bodies, a budget for bodies read before their
 * signature is checked, a read deadline, and one log line a minute for refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Hono } from "hono";
import { type Harness, startHarness } from "../_support/harness.ts";
import { refusalLog } from "../../src/http/refusal_log.ts";
import { createLogger } from "../../src/log.ts";

const LIMIT = 32 * 1024;
const BUDGET = 64 * 1024;
let h: Harness;
let port: number;
const open: Deno.TcpConn[] = [];

beforeAll(async () => {
  h = await startHarness({
    env: {
      WORKOS_WEBHOOK_SECRET: "test-workos-secret-0123456789",
      BODY_LIMIT_BYTES: String(LIMIT),
      UNAUTHENTICATED_BYTES_IN_FLIGHT: String(BUDGET),
      BODY_READ_TIMEOUT_MS: "500",
    },
  });
  port = Number(new URL(h.url).port);
});
afterAll(async () => {
  for (const c of open) {
    try {
      c.close();
    } catch { /* already closed */ }
  }
  await h.stop();
});

/** Sends a request head (and `body`, if any) on a fresh socket and leaves it open. */
async function sendHead(
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  open.push(conn);
  const head = [
    `POST ${path} HTTP/1.1`,
    "Host: 127.0.0.1",
    ...Object.entries(headers).map(
      ([k, v]) => `${k}: ${v}`,
    ),
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(`${head}\r\n\r\n${body}`));
  return conn;
}

/** The status line's code, or "no answer" when nothing came within `ms`. */
async function statusWithin(conn: Deno.TcpConn, ms: number): Promise<number | "no answer"> {
  const buf = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const n = await Promise.race([
    conn.read(buf).catch(() => null),
    new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms)),
  ]);
  clearTimeout(timer);
  if (n === "timeout" || n === null) return "no answer";
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n)))?.[1]);
}

const signedHeaders = (length: number) => ({
  "Content-Type": "application/json",
  "Content-Length": String(length),
  "WorkOS-Signature": `t=${Date.now()}, v1=${"0".repeat(64)}`,
});

describe("bearer routes", () => {
  // Finding 9: bodies were read before credentials were checked.
  it.each([
    ["/events", { Authorization: "Bearer wrong-token-0123456789" }],
    ["/events", {}],
    ["/scim/v2/Users", { Authorization: "Bearer wrong-token-0123456789" }],
    ["/admin/api/jobs/retry", { Authorization: "Bearer wrong-token-0123456789" }],
  ])("refuse %s with bad credentials before a byte of the body arrives", async (path, auth) => {
    const conn = await sendHead(path, {
      ...auth,
      "Content-Type": "application/json",
      "Content-Length": String(LIMIT - 1),
    });
    expect(await statusWithin(conn, 2000)).toBe(401);
  });
});

describe("signature routes", () => {
  it("refuse a declared length over the limit without reading it", async () => {
    const conn = await sendHead("/hooks/workos", signedHeaders(LIMIT + 1));
    expect(await statusWithin(conn, 2000)).toBe(413);
  });

  // Finding 9: 400 sockets trickling 1 MiB bodies took RSS from 191 MB to 1,675 MB.
  it("refuse with 503 once the unauthenticated bytes in flight would pass the budget", async () => {
    const size = Math.floor(BUDGET / 2) - 100; // two fit, the third does not
    const first = await sendHead("/hooks/workos", signedHeaders(size));
    const second = await sendHead("/hooks/workos", signedHeaders(size));
    await new Promise((r) => setTimeout(r, 100)); // both are being read now
    const third = await sendHead("/hooks/workos", signedHeaders(size));
    expect(await statusWithin(third, 1000)).toBe(503);
    // Finding 10 (read deadline): the stalled two are answered 408 and free the budget.
    expect(await statusWithin(first, 3000)).toBe(408);
    expect(await statusWithin(second, 3000)).toBe(408);
    const fourth = await sendHead("/hooks/workos", signedHeaders(10), "0123456789");
    expect(await statusWithin(fourth, 2000)).toBe(401); // read, then the signature is wrong
  });
});

describe("refusal log", () => {
  it("writes one line for a burst of refusals on a route", async () => {
    for (let i = 0; i < 20; i++) {
      const bad = await fetch(`${h.url}/events`, {
        method: "POST",
        headers: { authorization: "Bearer wrong-token-0123456789" },
        body: "{}",
      });
      expect(bad.status).toBe(401);
      await bad.body?.cancel();
    }
    // The whole file's log: the bearer tests above were refused on /events in this minute too.
    const lines = h.logs.map((l) => JSON.parse(l))
      .filter((l) => l.msg === "requests refused");
    expect(lines.filter((l) => l.route === "POST /events")).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain("wrong-token");
  });

  it("reports how many were refused when the minute is over", async () => {
    const lines: Record<string, unknown>[] = [];
    let now = 0;
    const app = new Hono();
    app.use(
      "*",
      refusalLog({
        logger: createLogger({ level: "warn", write: (l) => lines.push(JSON.parse(l)) }),
        now: () => now,
      }),
    );
    app.post("/x", (c) => c.json({}, 401));
    for (let i = 0; i < 5; i++) await app.request("/x", { method: "POST" });
    now = 60_000;
    await app.request("/x", { method: "POST" });
    expect(lines.map((l) => [l.route, l.count, l.byStatus])).toEqual([
      ["POST /x", 1, { 401: 1 }],
      ["POST /x", 5, { 401: 5 }],
    ]);
  });
});
