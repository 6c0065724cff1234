/**
 * Fuzzes the WorkOS and Keycloak webhooks on a real intake process: unsigned, badly signed and
 * replayed-elsewhere deliveries, and signed deliveries with invalid payloads. Every one must be
 * refused with a 4xx and a clear JSON error, change nothing in Redis, and leave the process up.
 */
import { describe, expect, it } from "vitest";
import { hooksCases } from "./_lib/hooks_cases.ts";
import { useIntakeProcess } from "./_lib/intake_process.ts";
import { createRng, fuzzSeed } from "./_lib/random.ts";
import { snapshotDiff, snapshotRedis } from "../_support/redis_snapshot.ts";
import { isErrorBody, judgeReject, runCases, summary } from "./_lib/runner.ts";

const SEED = fuzzSeed(3_2026);
const CASES = 1200;
const MiB = 1024 * 1024;
const MAX_PEAK_RSS = 768 * MiB;
const WORKOS_SECRET = "test-workos-secret-0123456789";
const KEYCLOAK_SECRET = "test-keycloak-secret-0123456789";

const target = useIntakeProcess({
  WORKOS_WEBHOOK_SECRET: WORKOS_SECRET,
  KEYCLOAK_WEBHOOK_SECRET: KEYCLOAK_SECRET,
  LOG_LEVEL: "error",
});

describe("fuzzing /hooks/*", () => {
  it("refuses every hostile delivery with a clear 4xx, changes nothing and stays up", async () => {
    const before = await snapshotRedis(target.probe);
    const cases = await hooksCases(createRng(SEED), CASES, {
      workosSecret: WORKOS_SECRET,
      keycloakSecret: KEYCLOAK_SECRET,
    });
    const result = await runCases(target.proc.url!, cases, judgeReject(isErrorBody), {
      proc: target.proc,
    });
    console.log(summary("/hooks/*", SEED, result));
    expect(result.problems).toEqual([]);
    expect(result.tried).toBe(cases.length);
    expect((await fetch(`${target.proc.url}/healthz`)).status).toBe(200);
    expect(snapshotDiff(before, await snapshotRedis(target.probe))).toEqual([]);
    expect(result.peakRss).toBeLessThan(MAX_PEAK_RSS);
  }, 240_000);
});
