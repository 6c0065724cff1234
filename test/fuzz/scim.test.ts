/**
 * Fuzzes the SCIM service provider on a real intake process: invalid Users and Groups, broken
 * PATCH operations, malformed bodies, hostile filters, wrong credentials. Every write must be
 * refused with a 4xx SCIM error (RFC 7644 §3.12) and change nothing; filters may match or be
 * refused but never fail with a 5xx; the process stays up with bounded memory.
 */
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, EVENTS_TOKEN, SCIM_TOKEN } from "../_support/harness.ts";
import { scimCases } from "./_lib/scim_cases.ts";
import { useIntakeProcess } from "./_lib/intake_process.ts";
import { createRng, fuzzSeed } from "./_lib/random.ts";
import { snapshotDiff, snapshotRedis } from "../_support/redis_snapshot.ts";
import { judgeReject, runCases, summary } from "./_lib/runner.ts";

const SEED = fuzzSeed(7_2026);
const CASES = 1500;
const MiB = 1024 * 1024;
/** Eight requests in flight with bodies up to 1 MiB: a few hundred MiB at most. */
const MAX_PEAK_RSS = 768 * MiB;
const SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";

const target = useIntakeProcess({ ADMIN_TOKEN, SCIM_TOKEN, LOG_LEVEL: "warn" });

async function create(path: string, body: unknown): Promise<string> {
  const res = await fetch(`${target.proc.url}/scim/v2/${path}`, {
    method: "POST",
    headers: { "content-type": "application/scim+json", authorization: `Bearer ${SCIM_TOKEN}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return (await res.json()).id;
}

describe("fuzzing /scim/v2", () => {
  it("refuses every hostile write with a SCIM error, changes nothing and stays up", async () => {
    const userId = await create("Users", { userName: "kept@example.com", displayName: "Kept" });
    const groupId = await create("Groups", { displayName: "kept-group" });
    // Reads complete the SCIM journal on the side: let that settle before the snapshot.
    await (await fetch(`${target.proc.url}/scim/v2/Users`, {
      headers: { authorization: `Bearer ${SCIM_TOKEN}` },
    })).body?.cancel();
    const before = await snapshotRedis(target.probe);

    const cases = scimCases(createRng(SEED), CASES, {
      scimToken: SCIM_TOKEN,
      otherTokens: [EVENTS_TOKEN, ADMIN_TOKEN],
      userId,
      groupId,
    });
    const result = await runCases(
      target.proc.url!,
      cases,
      judgeReject((b) =>
        Array.isArray(b.schemas) && b.schemas.includes(SCIM_ERROR) &&
        typeof b.detail === "string" && typeof b.status === "string"
      ),
      { proc: target.proc },
    );
    console.log(summary("/scim/v2", SEED, result));
    expect(result.problems).toEqual([]);
    expect(result.tried).toBe(cases.length);
    expect((await fetch(`${target.proc.url}/healthz`)).status).toBe(200);
    expect(snapshotDiff(before, await snapshotRedis(target.probe))).toEqual([]);
    expect(result.peakRss).toBeLessThan(MAX_PEAK_RSS);
  }, 240_000);
});
