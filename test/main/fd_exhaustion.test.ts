/**
 * Finding 10 of issue 10: with an open-files limit of 1024, 1,100 half-sent requests made the
 * process exit (`Too many open files`), workers included. Here with a limit of 256 and 400
 * connections, against a real Redis and the simulator: the process must live through it, answer
 * again once the connections are gone, and its workers must still sync.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startRedis, type TestRedis } from "../_support/redis.ts";
import {
  type RunningSimulator,
  startIonosSimulator,
} from "../../src/targets/ionos/simulator/mod.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const EVENTS_TOKEN = "fd-test-events-token-0123456789";
let redis: TestRedis;
let sim: RunningSimulator;
beforeAll(async () => {
  redis = await startRedis();
  sim = await startIonosSimulator({ requestDelayMs: 0, rateLimitPerSecond: 0 });
});
afterAll(async () => {
  await sim.close();
  await redis.stop();
});

async function poll<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("running out of file descriptors", () => {
  it("does not end the process; the intake answers again and the workers keep syncing", async () => {
    const port = await freePort();
    const child = new Deno.Command("bash", {
      args: ["-c", `ulimit -n 256 && exec "$0" run -A "$1" --role all`, Deno.execPath(), MAIN],
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? "/tmp",
        REDIS_URL: redis.url,
        IONOS_API_URL: sim.url,
        IONOS_TOKEN: "sim-token",
        IONOS_RATE_LIMIT_RPS: "1000",
        EVENTS_TOKEN,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        SHUTDOWN_TIMEOUT_MS: "2000",
      },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let exited: Deno.CommandStatus | undefined;
    const status = child.status.then((s) => exited = s);
    const stderr = new Response(child.stderr).text();
    const stdout = new Response(child.stdout).text();
    const base = `http://127.0.0.1:${port}`;
    try {
      await poll("/readyz", async () => (await fetch(`${base}/readyz`)).ok || undefined);
      const conns: Deno.TcpConn[] = [];
      for (let i = 0; i < 400; i++) {
        try {
          const c = await Deno.connect({ hostname: "127.0.0.1", port });
          await c.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
          conns.push(c);
        } catch {
          break; // the listener stopped accepting: it hit the limit
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed by the server */ }
      }
      expect(exited, await Promise.race([stderr, "(still running)"])).toBeUndefined();
      await poll(
        "/healthz after the flood",
        async () => (await fetch(`${base}/healthz`)).status === 200 || undefined,
      );
      const res = await fetch(`${base}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${EVENTS_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          id: "fd-1",
          type: "user.created",
          data: { id: "fd-u1", emails: [{ value: "fd@example.com", primary: true }] },
        }),
      });
      expect(res.status).toBe(202);
      await poll("the user in the simulator", () =>
        Promise.resolve(
          sim.sim.state.users().find((u) => u.properties.email === "fd@example.com"),
        ));
      expect(exited).toBeUndefined();
    } finally {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await status;
    }
    // The flood did reach the limit: otherwise this test would prove nothing.
    expect(`${await stdout}${await stderr}`).toContain("Too many open files");
    expect(exited?.code).toBe(0);
  });
});
