/**
 * The model-based test of issue 8: random IdP histories (seeded), delivered with duplicates,
 * reordering, concurrent requests, slow IONOS and injected 5xx/429/lost answers; after the queue
 * drains, the invariants of test/model/invariants.ts must hold. Each seed runs against a fresh
 * Redis, simulator and service. More seeds: `deno task test:model --seeds N`.
 *
 * Issue 11: a few seeds per other target too (`--target`), with that target's simulator under
 * the same accounts and faults, checked by test/model/target_invariants.ts.
 */
import { describe, expect, it } from "vitest";
import type { TargetName } from "../../src/targets/target.ts";
import { replayCommand, runSeed } from "./run_seed.ts";

/** Fixed seeds, so CI runs the same histories every time (timing still varies). */
const SEEDS = Array.from({ length: 30 }, (_, i) => 1 + i);
/** Fewer for each other target (suite time): IONOS runs in those seeds too. */
const TARGET_SEEDS = Array.from({ length: 5 }, (_, i) => 1 + i);

async function check(seed: number, target: TargetName) {
  const r = await runSeed(seed, { target });
  const lines = r.violations.map((v) => `(${v.invariant}) ${v.message}`);
  if (lines.length) lines.push(`replay: ${replayCommand(seed, target)}`);
  expect(lines, `seed ${seed}`).toEqual([]);
}

describe("model: random IdP histories keep the issue 8 invariants", () => {
  it.each(SEEDS)("seed %i", (seed) => check(seed, "ionos"), 150_000);
});

describe.each(["contabo", "cloudflare"] as const)("model on %s beside IONOS", (target) => {
  it.each(TARGET_SEEDS)("seed %i", (seed) => check(seed, target), 150_000);
});
