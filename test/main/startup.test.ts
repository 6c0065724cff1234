/**
 * `src/main.ts` as a real process, started while its Redis is not there yet: what a container
 * orchestrator sees during start-up (findings 1, 2, 5 and 8 of issue 10).
 */
import { afterEach, describe, expect, it } from "vitest";
import { freePort, startRedis, type TestRedis } from "../_support/redis.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

interface Proc {
  child: Deno.ChildProcess;
  lines: string[];
  done: Promise<Deno.CommandStatus>;
}

const running: Proc[] = [];
let redis: TestRedis | undefined;

afterEach(async () => {
  for (const p of running.splice(0)) {
    try {
      p.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await p.done;
  }
  await redis?.stop();
  redis = undefined;
});

function start(role: string, env: Record<string, string>): Proc {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--role", role],
    env: { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "/tmp", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      lines.push(...chunk.split("\n").filter(Boolean));
    }
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const done = child.status.then(async (s) => {
    await pumped;
    return s;
  });
  const p = { child, lines, done };
  running.push(p);
  return p;
}

async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve().then(fn).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const get = async (url: string) => {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.status;
};

const baseEnv = async (redisUrl: string) => ({
  REDIS_URL: redisUrl,
  IONOS_TOKEN: "test-token-not-used",
  IONOS_API_URL: "http://127.0.0.1:9/cloudapi/v6",
  EVENTS_TOKEN: "events-token-0123456789",
  PORT: String(await freePort()),
  HOST: "0.0.0.0",
  LOG_LEVEL: "info",
});

describe("main.ts while Redis is not there", () => {
  // Finding 5: /healthz ("process alive") was not served until Redis connected.
  it("answers /healthz 200 and /readyz 503 before Redis connects", async () => {
    const env = await baseEnv(`redis://127.0.0.1:${await freePort()}`);
    start("all", env);
    const base = `http://127.0.0.1:${env.PORT}`;
    expect(await waitFor("/healthz", async () => await get(`${base}/healthz`))).toBe(200);
    expect(await get(`${base}/readyz`)).toBe(503);
    expect(await get(`${base}/events`)).toBe(503);
  });

  // Finding 1: a SIGTERM during start-up (waiting for Redis) did not end with exit 0.
  it.each(["all", "worker"])(
    "exits 0 within 10 s on SIGTERM during start-up (role %s)",
    async (role) => {
      const env = await baseEnv(`redis://127.0.0.1:${await freePort()}`);
      const p = start(role, env);
      await waitFor(
        "waiting for Redis",
        () => p.lines.some((l) => l.includes("waiting for Redis")) ? true : undefined,
      );
      const sent = Date.now();
      p.child.kill("SIGTERM");
      const status = await p.done;
      expect(Date.now() - sent).toBeLessThan(10_000);
      expect({ code: status.code, signal: status.signal }).toEqual({ code: 0, signal: null });
    },
  );

  // Finding 8: the log named localhost while the server was bound to 0.0.0.0.
  it("logs the address it is bound to, and a URL that reaches it", async () => {
    const env = await baseEnv(`redis://127.0.0.1:${await freePort()}`);
    const p = start("api", env);
    const line = await waitFor("listening line", () => {
      const l = p.lines.find((l) => l.includes('"msg":"listening"'));
      return l ? JSON.parse(l) : undefined;
    });
    expect(line.bound).toBe(`0.0.0.0:${env.PORT}`);
    expect(line.url).toBe(`http://127.0.0.1:${env.PORT}`);
    expect(JSON.stringify(p.lines)).not.toContain("localhost");
  });
});

describe("main.ts --role worker", () => {
  // Finding 2: a worker served nothing on PORT, so the image's HEALTHCHECK always failed.
  it("serves /healthz and /readyz on PORT", async () => {
    redis = await startRedis();
    const env = await baseEnv(redis.url);
    const p = start("worker", env);
    const base = `http://127.0.0.1:${env.PORT}`;
    await waitFor(
      "workers started",
      () => p.lines.some((l) => l.includes("workers started")) ? true : undefined,
    );
    expect(await get(`${base}/healthz`)).toBe(200);
    expect(await get(`${base}/readyz`)).toBe(200);
    p.child.kill("SIGTERM");
    expect((await p.done).code).toBe(0);
  });
});
