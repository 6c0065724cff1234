/**
 * The model-based test of issue 8: random IdP histories (seeded), delivered with duplicates,
 * reordering, concurrent requests, slow IONOS and injected 5xx/429/lost answers; after the queue
 * drains, the invariants of test/model/invariants.ts must hold. Each seed runs against a fresh
 * Redis, simulator and service. More seeds: `deno task test:model --seeds N`.
 */
import { describe, expect, it } from "vitest";
import { replayCommand, runSeed } from "./run_seed.ts";

/** Fixed seeds, so CI runs the same histories every time (timing still varies). */
const SEEDS = Array.from({ length: 30 }, (_, i) => 1 + i);

describe("model: random IdP histories keep the issue 8 invariants", () => {
  it.each(SEEDS)("seed %i", async (seed) => {
    const r = await runSeed(seed);
    const lines = r.violations.map((v) => `(${v.invariant}) ${v.message}`);
    if (lines.length) lines.push(`replay: ${replayCommand(seed)}`);
    expect(lines, `seed ${seed}`).toEqual([]);
  }, 150_000);
});
