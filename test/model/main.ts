/**
 * `deno task test:model`: runs more model-test seeds than the fixed ones in model.test.ts.
 *
 *   deno task test:model --seeds 100            # 100 seeds from a random base
 *   deno task test:model --seeds 100 --from 7   # seeds 7..106
 *   deno task test:model --seed 1234            # replay one seed, violations in full
 *   deno task test:model --seed 1234 --minimize # shrink its history while it still fails
 *   --logs DIR   write a failing seed's history and service log to DIR
 *   --strict     a conflict must still have a cause at the end (see invariants.ts, CheckOptions)
 *   --target T   check T (contabo, cloudflare) beside IONOS too (target_invariants.ts);
 *                default ionos: IONOS alone
 *
 * Exit code 1 when a seed fails.
 */
import { parseArgs } from "node:util";
import { TARGET_NAMES, type TargetName } from "../../src/targets/target.ts";
import { generateCase, type Op } from "./generator.ts";
import { replayCommand, runSeed, type SeedResult } from "./run_seed.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string" },
    from: { type: "string" },
    seed: { type: "string" },
    minimize: { type: "boolean", default: false },
    logs: { type: "string" },
    strict: { type: "boolean", default: false },
    target: { type: "string", default: "ionos" },
  },
});
if (!(TARGET_NAMES as readonly string[]).includes(values.target)) {
  console.error(`--target must be one of ${TARGET_NAMES.join(", ")}: got ${values.target}`);
  Deno.exit(2);
}
const target = values.target as TargetName;

function report(r: SeedResult): void {
  console.log(
    `seed ${r.seed} FAILED (${r.violations.length} violations), replay: ${
      replayCommand(r.seed, target)
    }`,
  );
  for (const v of r.violations) console.log(`  (${v.invariant}) ${v.message}`);
}

async function writeLogs(r: SeedResult, suffix = ""): Promise<void> {
  if (!values.logs) return;
  await Deno.mkdir(values.logs, { recursive: true });
  const base = `${values.logs}/seed-${r.seed}${suffix}`;
  await Deno.writeTextFile(`${base}.history.json`, JSON.stringify(r.history, null, 2));
  await Deno.writeTextFile(`${base}.service.log`, r.logs.join("\n"));
  console.log(`  history and service log: ${base}.*`);
}

/**
 * Delta debugging over the case's operations: drops chunks while the seed still fails with a
 * violation of the same invariants. Runs are not deterministic (timing), so each candidate gets
 * two tries.
 */
async function minimize(seed: number, first: SeedResult): Promise<void> {
  const c = generateCase(seed);
  const kinds = new Set(first.violations.map((v) => v.invariant));
  const fails = async (ops: Op[]) => {
    for (let i = 0; i < 2; i++) {
      const r = await runSeed(seed, { ops, strictConflicts: values.strict, target });
      if (r.violations.some((v) => kinds.has(v.invariant))) return r;
    }
    return undefined;
  };
  let ops = [...c.ops];
  let last = first;
  let chunks = 2;
  while (ops.length > 1) {
    const size = Math.ceil(ops.length / chunks);
    let shrunk = false;
    for (let i = 0; i < ops.length; i += size) {
      const candidate = [...ops.slice(0, i), ...ops.slice(i + size)];
      console.log(`  minimizing: trying ${candidate.length} of ${ops.length} operations`);
      const r = await fails(candidate);
      if (r) {
        ops = candidate;
        last = r;
        chunks = Math.max(chunks - 1, 2);
        shrunk = true;
        break;
      }
    }
    if (!shrunk) {
      if (size === 1) break;
      chunks = Math.min(ops.length, chunks * 2);
    }
  }
  console.log(`minimal history for seed ${seed} (${last.history.length} events):`);
  for (const e of last.history) console.log(`  ${JSON.stringify(e)}`);
  for (const v of last.violations) console.log(`  (${v.invariant}) ${v.message}`);
  await writeLogs(last, "-min");
}

if (values.seed !== undefined) {
  const seed = Number(values.seed);
  const r = await runSeed(seed, { log: console.log, strictConflicts: values.strict, target });
  console.log(`seed ${seed}: ${JSON.stringify(r.stats)} in ${(r.ms / 1000).toFixed(1)} s`);
  if (r.violations.length) {
    report(r);
    await writeLogs(r);
    if (values.minimize) await minimize(seed, r);
    Deno.exit(1);
  }
  console.log("ok");
} else {
  const count = Number(values.seeds ?? 10);
  const from = values.from !== undefined
    ? Number(values.from)
    : Math.floor(Math.random() * 1_000_000) + 1000;
  const started = Date.now();
  const failed: number[] = [];
  for (let i = 0; i < count; i++) {
    const seed = from + i;
    let r: SeedResult;
    try {
      r = await runSeed(seed, { strictConflicts: values.strict, target });
    } catch (error) {
      console.log(`seed ${seed} ERROR: ${(error as Error).stack}`);
      failed.push(seed);
      continue;
    }
    const done = `${i + 1}/${count}`;
    if (r.violations.length) {
      failed.push(seed);
      report(r);
      await writeLogs(r);
    } else {
      console.log(
        `${done} seed ${seed} ok in ${(r.ms / 1000).toFixed(1)} s ` +
          `(${r.stats.events} events, ${r.stats.ionosCalls} IONOS calls, ` +
          `${r.stats.conflicts} conflicts)`,
      );
    }
  }
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `\n${count} seeds (${from}..${from + count - 1}), ${failed.length} failed, ${secs} s`,
  );
  if (failed.length) {
    console.log(`failed seeds: ${failed.join(", ")}`);
    console.log(`replay one: ${replayCommand(failed[0]!, target)}`);
    Deno.exit(1);
  }
}
