/**
 * The image, built from the Dockerfile unchanged and run with podman against a real Redis and the
 * IONOS simulator (both on the host; the containers use the host network). Where there is no
 * engine or no base image (our machines cannot pull: `../shared/tools/container-base-images.sh`
 * builds local stand-ins), the suite is reported as skipped with the reason in its name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { freePort, startRedis, type TestRedis } from "../_support/redis.ts";
import {
  type RunningSimulator,
  startIonosSimulator,
} from "../../src/targets/ionos/simulator/mod.ts";
import { podman, podmanOk, whyNoEngine } from "./_lib/podman.ts";

const dockerfile = readFileSync("Dockerfile", "utf8");
const skipReason = await whyNoEngine(dockerfile);
if (skipReason) console.warn(`image test skipped: ${skipReason}`);

const IMAGE = `localhost/ionos-sync-test:${Deno.pid}`;
const SECRETS = {
  IONOS_TOKEN: "sim-token",
  EVENTS_TOKEN: "image-test-events-token-7f3a9c",
  ADMIN_TOKEN: "image-test-admin-token-91be2d",
};

let redis: TestRedis;
let sim: RunningSimulator;
const containers: string[] = [];

interface Started {
  name: string;
  port: number;
  url: string;
}

/** Starts a detached container of the image with the host network and the test's settings. */
async function runContainer(
  role: "all" | "worker",
  env: Record<string, string> = {},
): Promise<Started> {
  const name = `ionos-sync-test-${Deno.pid}-${containers.length}`;
  const port = await freePort();
  const vars = {
    REDIS_URL: redis.url,
    IONOS_API_URL: sim.url,
    ...SECRETS,
    PORT: String(port),
    JOB_BACKOFF_MS: "50",
    IONOS_RATE_LIMIT_RPS: "1000",
    SHUTDOWN_TIMEOUT_MS: "3000",
    ...env,
  };
  containers.push(name);
  await podmanOk([
    "run",
    "-d",
    "--name",
    name,
    "--network",
    "host",
    ...Object.entries(vars).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    IMAGE,
    "--role",
    role,
  ]);
  return { name, port, url: `http://127.0.0.1:${port}` };
}

async function logs(name: string): Promise<string> {
  const r = await podman(["logs", name]);
  return r.stdout + r.stderr;
}

async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve().then(fn).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.status;
}

const waitForLog = (name: string, text: string) =>
  waitFor(
    `"${text}" in the log of ${name}`,
    async () => (await logs(name)).includes(text) ? true : undefined,
  );

/** SIGTERM to the container; resolves with its exit code and how long the stop took. */
async function terminate(name: string): Promise<{ code: number; ms: number }> {
  const started = Date.now();
  await podmanOk(["kill", "--signal", "TERM", name]);
  const code = Number((await podmanOk(["wait", name], 30_000)).trim());
  return { code, ms: Date.now() - started };
}

describe.skipIf(skipReason !== undefined)(
  skipReason ? `image test (skipped: ${skipReason})` : "the image, built and run with podman",
  () => {
    let all: Started;

    beforeAll(async () => {
      const started = Date.now();
      // Unchanged Dockerfile, no pulls: the base images are the local stand-ins.
      await podmanOk(["build", "--pull=never", "--format", "docker", "-t", IMAGE, "."], 600_000);
      console.info(`image built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      redis = await startRedis();
      sim = await startIonosSimulator({ requestDelayMs: 2, rateLimitPerSecond: 0 });
      all = await runContainer("all");
      await waitFor(
        "/readyz 200",
        async () => await status(`${all.url}/readyz`) === 200 ? true : undefined,
      );
    }, 600_000);

    afterAll(async () => {
      for (const c of containers) await podman(["rm", "-f", "-t", "0", c]);
      await podman(["rmi", IMAGE]);
      await sim?.close();
      await redis?.stop();
    }, 120_000);

    it("declares a HEALTHCHECK that survives the build (docker format)", async () => {
      const hc = await podmanOk([
        "image",
        "inspect",
        "--format",
        "{{json .Config.Healthcheck}}",
        IMAGE,
      ]);
      expect(hc).toContain("src/healthcheck.ts");
    });

    // Finding 1: no init; deno ran as PID 1.
    it("runs an init as PID 1 and every process as a non-root user", async () => {
      const out = await podmanOk([
        "exec",
        all.name,
        "sh",
        "-c",
        'cat /proc/1/comm; for f in /proc/[0-9]*/status; do grep "^Uid:" "$f"; done',
      ]);
      const [pid1, ...uids] = out.trim().split("\n");
      expect(pid1).toBe("tini");
      expect(uids.length).toBeGreaterThan(1);
      for (const line of uids) expect(line.split(/\s+/)[1], line).not.toBe("0");
    });

    // Finding 3: `chown -R` copied /app a second time and left the code writable by `deno`.
    // Finding 4: the root-owned Deno cache was read-only at run time.
    it("keeps the code owned by root and read-only, and Deno's cache writable", async () => {
      const out = await podmanOk([
        "exec",
        all.name,
        "sh",
        "-c",
        "find /app -not -user root | head -3; find /app -writable | head -3; " +
        'test -w "$DENO_DIR" && echo cache-writable',
      ]);
      expect(out.trim()).toBe("cache-writable");
      expect(await logs(all.name)).not.toMatch(/Failed creating cache db|permission denied/i);
    });

    it("answers /healthz and /readyz", async () => {
      expect(await status(`${all.url}/healthz`)).toBe(200);
      const ready = await fetch(`${all.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: "ready", redis: "ok" });
    });

    // Finding 2: with --role worker the HEALTHCHECK probed a port where nothing listened.
    it.each(["all", "worker"] as const)(
      "passes its own HEALTHCHECK with --role %s",
      async (role) => {
        const c = role === "all" ? all : await runContainer("worker");
        if (role === "worker") await waitForLog(c.name, "workers started");
        const r = await podman(["healthcheck", "run", c.name]);
        // podman 4.3 prints nothing when healthy and "unhealthy" (exit 1) otherwise.
        expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
      },
    );

    it("takes the README's curl through to the simulator", async () => {
      const readme = readFileSync("README.md", "utf8");
      const block = /## Sending events[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(block, "the README's curl example").toContain("curl -X POST");
      const script = block!.replaceAll("http://localhost:8080", all.url);
      const out = await new Deno.Command("bash", {
        // The README's command as written; only its output is reduced to the status code.
        args: ["-c", `curl() { command curl -s -o /dev/null -w '%{http_code}' "$@"; }\n${script}`],
        env: { EVENTS_TOKEN: SECRETS.EVENTS_TOKEN, PATH: Deno.env.get("PATH") ?? "" },
        stdout: "piped",
      }).output();
      expect(new TextDecoder().decode(out.stdout)).toBe("202");
      const email = /"userName":"([^"]+)"/.exec(script)?.[1];
      await waitFor(
        "the user in the simulator",
        () => Promise.resolve(sim.sim.state.users().find((u) => u.properties.email === email)),
      );
    });

    // Finding 5: /healthz ("process alive") was not served until Redis connected.
    it("answers /healthz, and /readyz 503, while Redis is not there yet", async () => {
      const c = await runContainer("all", { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      await waitForLog(c.name, "waiting for Redis");
      expect(await status(`${c.url}/healthz`)).toBe(200);
      expect(await status(`${c.url}/readyz`)).toBe(503);
      expect((await podman(["healthcheck", "run", c.name])).code).toBe(0);
      await podman(["rm", "-f", "-t", "0", c.name]);
    });

    // Finding 1: a SIGTERM while waiting for Redis ended in exit 139 without an init.
    it("exits 0 within 10 s on SIGTERM during start-up", async () => {
      const c = await runContainer("all", { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      await waitForLog(c.name, "waiting for Redis");
      const { code, ms } = await terminate(c.name);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(10_000);
    });

    it("exits 0 within 10 s on SIGTERM once up, and never logs a secret", async () => {
      const worker = containers.slice(1).find((n) => n.endsWith("-1"));
      for (const name of [all.name, ...(worker ? [worker] : [])]) {
        const { code, ms } = await terminate(name);
        expect({ name, code }).toEqual({ name, code: 0 });
        expect(ms).toBeLessThan(10_000);
      }
      for (const name of containers) {
        const text = await logs(name);
        for (const [k, v] of Object.entries(SECRETS)) {
          expect(text, `${k} in ${name}`).not.toContain(v);
        }
      }
    });
  },
);
