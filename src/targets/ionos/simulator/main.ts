/**
 * Standalone IONOS UM simulator (`deno task simulator`). A sandbox: nothing reaches IONOS.
 *
 * Env: SIM_PORT (default 8090), SIM_TOKEN (default "sim-token"), SIM_RATE_LIMIT (requests per
 * second, 0 = off, default 50), SIM_REQUEST_DELAY_MS (default 20), SIM_PROFILE (`fast` or
 * `realistic`; overrides SIM_REQUEST_DELAY_MS), SIM_SEED.
 */
import type { TimingProfile } from "./duration.ts";
import { startIonosSimulator } from "./server.ts";

function numberEnv(name: string, fallback?: number): number | undefined {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new RangeError(`${name} must be a number: got '${raw}'`);
  return n;
}

const token = Deno.env.get("SIM_TOKEN");
const profile = Deno.env.get("SIM_PROFILE");
const running = await startIonosSimulator({
  port: numberEnv("SIM_PORT", 8090),
  // An empty SIM_TOKEN counts as unset, as in compose files.
  token: token || undefined,
  rateLimitPerSecond: numberEnv("SIM_RATE_LIMIT", 50),
  requestDelayMs: numberEnv("SIM_REQUEST_DELAY_MS", 20),
  seed: numberEnv("SIM_SEED"),
  requestTiming: (profile || undefined) as TimingProfile | undefined,
});

console.log(`IONOS Cloud API v6 User Management SIMULATOR (sandbox, not IONOS): ${running.url}`);
console.log(
  token
    ? "Auth: Bearer <SIM_TOKEN> or Basic sim@example.com:sim-password"
    : 'Auth: "Bearer sim-token" or Basic sim@example.com:sim-password',
);
console.log(`Admin: ${new URL(running.url).origin}/__sim/{state,calls,stats,faults,timing,reset}`);
console.log(`Seed: ${running.sim.seed}`);

Deno.addSignalListener("SIGINT", async () => {
  await running.close();
  Deno.exit(0);
});
