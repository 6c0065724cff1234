/**
 * `deno task dev`: the whole product on embedded defaults, for trying it out.
 *
 * - No REDIS_URL: starts a private redis-server (free port, append-only file under .data/).
 * - No IONOS credentials: starts the bundled IONOS simulator, a sandbox.
 * - Missing tokens are generated once and kept in .data/dev-tokens.json.
 */
import { startIonosSimulator } from "./targets/ionos/simulator/mod.ts";
import { run } from "./main.ts";
import { ConfigError } from "./config/config.ts";
import { MappingError } from "./config/mapping.ts";

/** Where the dev Redis and tokens live; tests point it elsewhere. */
const DATA_DIR = Deno.env.get("DEV_DATA_DIR") ?? ".data";

async function freePort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return await Promise.resolve(port);
}

async function hasRedisServer(): Promise<boolean> {
  try {
    const out = await new Deno.Command("redis-server", { args: ["--version"], stdout: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

async function startEmbeddedRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const dir = `${DATA_DIR}/redis`;
  await Deno.mkdir(dir, { recursive: true });
  const child = new Deno.Command("redis-server", {
    args: [
      ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir],
      ...["--appendonly", "yes", "--appendfsync", "always", "--save", ""],
      ...["--maxmemory-policy", "noeviction"],
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return { url, stop: () => child.kill("SIGTERM") };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server did not start on port ${port}`);
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function devTokens(): Promise<Record<string, string>> {
  const path = `${DATA_DIR}/dev-tokens.json`;
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    const tokens = {
      EVENTS_TOKEN: `evt_${randomToken()}`,
      ADMIN_TOKEN: `adm_${randomToken()}`,
      SCIM_TOKEN: `scim_${randomToken()}`,
    };
    await Deno.mkdir(DATA_DIR, { recursive: true });
    await Deno.writeTextFile(path, JSON.stringify(tokens, null, 2));
    return tokens;
  }
}

const env = Deno.env.toObject();
const cleanups: (() => void | Promise<void>)[] = [];
const cleanup = async () => {
  for (const c of cleanups.reverse()) await c();
};

try {
  const sandbox = !env.IONOS_TOKEN && !(env.IONOS_USERNAME && env.IONOS_PASSWORD);
  if (!env.REDIS_URL) {
    if (!(await hasRedisServer())) {
      console.error(
        "No REDIS_URL is set and no redis-server was found on PATH.\n" +
          "  Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)\n" +
          "  or point the service at one: REDIS_URL=redis://host:6379 npx deno task dev",
      );
      Deno.exit(1);
    }
    // The simulator forgets everything when it stops, so state kept about it would be stale.
    if (sandbox) await Deno.remove(`${DATA_DIR}/redis`, { recursive: true }).catch(() => {});
    const redis = await startEmbeddedRedis();
    env.REDIS_URL = redis.url;
    cleanups.push(redis.stop);
  }
  if (sandbox) {
    const sim = await startIonosSimulator({ port: await freePort(), rateLimitPerSecond: 20 });
    env.IONOS_API_URL = sim.url;
    env.IONOS_TOKEN = "sim-token";
    cleanups.push(() => sim.close());
  }
  const tokens = await devTokens();
  for (const [k, v] of Object.entries(tokens)) env[k] ??= v;
  env.PORT ??= "8080";
  env.LOG_LEVEL ??= "info";

  const service = await run([], env, { afterStop: cleanup });

  const base = service.url ?? `http://localhost:${env.PORT}`;
  const line = "=".repeat(78);
  console.log(`\n${line}`);
  if (sandbox) {
    console.log(
      "  SANDBOX: no IONOS credentials set, so changes go to the bundled IONOS SIMULATOR,",
    );
    console.log("  not to IONOS Cloud. Set IONOS_TOKEN (and IONOS_API_URL) to sync for real.");
    console.log(
      `  Simulator:      ${env.IONOS_API_URL}  (inspect: ${
        env.IONOS_API_URL!.replace(/\/cloudapi\/v6$/, "")
      }/__sim/state)`,
    );
  }
  console.log(`  Intake:         ${base}/events        EVENTS_TOKEN=${env.EVENTS_TOKEN}`);
  console.log(`  SCIM 2.0:       ${base}/scim/v2       SCIM_TOKEN=${env.SCIM_TOKEN}`);
  console.log(`  Admin stats:    ${base}/admin/api/stats ADMIN_TOKEN=${env.ADMIN_TOKEN}`);
  console.log(`  Console:        ${base}/admin               (sign in with ADMIN_TOKEN)`);
  console.log(`  Redis:          ${env.REDIS_URL}`);
  console.log(`${line}\n  Create a user:\n`);
  console.log(
    `  curl -sS -X POST ${base}/events -H 'Authorization: Bearer ${env.EVENTS_TOKEN}' \\\n` +
      `    -H 'Content-Type: application/json' \\\n` +
      `    -d '{"id":"evt-${Date.now()}","type":"user.created","data":{"id":"00u1","userName":"ada@example.com",` +
      `"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@example.com","primary":true}],"active":true}}'\n`,
  );
  if (sandbox) {
    console.log(
      `  Then see it in the simulator:\n\n  curl -sS ${env.IONOS_API_URL}/um/users?depth=1 -H 'Authorization: Bearer sim-token'\n`,
    );
  }
  console.log(line);
} catch (error) {
  await cleanup();
  if (error instanceof ConfigError || error instanceof MappingError) {
    console.error("refusing to start:");
    for (const p of error.problems) console.error(`  ${p}`);
    Deno.exit(2);
  }
  throw error;
}
