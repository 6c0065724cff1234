/**
 * Fuzzes `POST /events` on a real intake process: invalid events, malformed bodies, nasty
 * Unicode, huge and deep inputs, wrong credentials, bad and replayed signatures. The process
 * must survive, answer every one with a 4xx and a clear JSON error (a replay: 2xx, nothing
 * accepted), write nothing to Redis, and keep its memory bounded. Deterministic: FUZZ_SEED
 * replays another run.
 */
import { describe, expect, it } from "vitest";
import { signStandardWebhook } from "../../src/intake/auth/standard_webhooks.ts";
import { ADMIN_TOKEN, EVENTS_TOKEN, SCIM_TOKEN, WEBHOOK_SECRET } from "../_support/harness.ts";
import { type FuzzCase, oversizedBody } from "./_lib/cases.ts";
import { eventsCases } from "./_lib/events_cases.ts";
import { useIntakeProcess } from "./_lib/intake_process.ts";
import { createRng, fuzzSeed } from "./_lib/random.ts";
import { snapshotDiff, snapshotRedis } from "../_support/redis_snapshot.ts";
import { isErrorBody, judgeReject, runCases, summary } from "./_lib/runner.ts";

const SEED = fuzzSeed(5_2026);
const CASES = Number(Deno.env.get("FUZZ_CASES") ?? 2500);
const BODY_LIMIT = 1024 * 1024;
const ROUNDS = Number(Deno.env.get("FUZZ_ROUNDS") ?? 4);
const MiB = 1024 * 1024;
/**
 * RSS may grow this much from the end of round 2 to the end of the last round. Rounds 1 and 2
 * grow the heap to its working size (later when the machine is busy, as GC then runs later).
 * Each round sends about 100 MiB of bodies: keeping a fraction of every request shows up as
 * hundreds of MiB here (a test run that kept each body grew 200 MiB a round).
 */
const MAX_RSS_GROWTH = 160 * MiB;
/** Eight requests in flight with bodies up to 1 MiB: a few hundred MiB at most. */
const MAX_PEAK_RSS = 768 * MiB;

const target = useIntakeProcess({
  WEBHOOK_SECRET,
  ADMIN_TOKEN,
  SCIM_TOKEN,
  LOG_LEVEL: "warn",
  BODY_LIMIT_BYTES: String(BODY_LIMIT),
});

const post = (body: string, headers: Record<string, string>) =>
  fetch(`${target.proc.url}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

/** A delivery accepted once, to be replayed: replays must change nothing. */
async function acceptedDelivery(): Promise<FuzzCase[]> {
  const body = JSON.stringify({
    id: "fz-replay-event",
    type: "user.created",
    data: { id: "fz-replay", userName: "replay@example.com" },
  });
  const ts = String(Math.floor(Date.now() / 1000));
  const headers = {
    "webhook-id": "msg_replay",
    "webhook-timestamp": ts,
    "webhook-signature": await signStandardWebhook(WEBHOOK_SECRET, "msg_replay", ts, body),
  };
  const first = await post(body, headers);
  expect(first.status).toBe(202);
  expect(await first.json()).toEqual({ accepted: 1, duplicates: 0 });
  const replay = (kind: string, h: Record<string, string>): FuzzCase => ({
    kind,
    method: "POST",
    path: "/events",
    headers: { "content-type": "application/json", ...h },
    body,
    expect: "duplicate",
  });
  return [
    ...Array.from({ length: 5 }, () => replay("replayed signature", headers)),
    replay("replayed event by bearer", { authorization: `Bearer ${EVENTS_TOKEN}` }),
  ];
}

describe("fuzzing POST /events", () => {
  it("answers every hostile input with a clear 4xx, stores nothing and stays up", async () => {
    const replays = await acceptedDelivery();
    const before = await snapshotRedis(target.probe);
    const rng = createRng(SEED);
    const cases = [
      ...await eventsCases(rng, CASES, {
        eventsToken: EVENTS_TOKEN,
        webhookSecret: WEBHOOK_SECRET,
        otherTokens: [ADMIN_TOKEN, SCIM_TOKEN],
        bodyLimitBytes: BODY_LIMIT,
      }),
      ...replays,
    ];
    const judge = judgeReject(isErrorBody);
    // The same inputs several times: the first rounds grow the heap to its working size, the
    // later ones must not grow it further, or the process keeps something of every request.
    const rss: number[] = [];
    let peak = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const result = await runCases(target.proc.url!, cases, judge, { proc: target.proc });
      if (round === 1) console.log(summary("POST /events", SEED, result));
      expect(result.problems).toEqual([]);
      expect(result.tried).toBe(cases.length);
      rss.push(result.last!.rss);
      peak = Math.max(peak, result.peakRss);
    }
    console.log(
      `${ROUNDS} rounds, ${ROUNDS * cases.length} requests; RSS after each round ` +
        `${rss.map((b) => Math.round(b / MiB)).join(", ")} MiB, peak ${Math.round(peak / MiB)} MiB`,
    );

    // Still up and still serving.
    expect((await fetch(`${target.proc.url}/healthz`)).status).toBe(200);
    const ok = await post(oversizedBody(0, 10), { authorization: `Bearer ${EVENTS_TOKEN}` });
    expect(ok.status).toBe(400);
    await ok.body?.cancel();
    // Nothing reached Redis: no key, no job, no changed value.
    expect(snapshotDiff(before, await snapshotRedis(target.probe))).toEqual([]);
    // Memory bounded: no growth after the warm-up rounds beyond noise, and a sane peak.
    expect(rss.at(-1)! - rss[1]!).toBeLessThan(MAX_RSS_GROWTH);
    expect(peak).toBeLessThan(MAX_PEAK_RSS);
  }, 240_000);
});
