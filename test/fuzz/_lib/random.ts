/**
 * A seeded random source (the simulator's mulberry32), so a fuzz run can be replayed exactly:
 * the seed is printed with every run and taken from FUZZ_SEED when set.
 */
import { createRandom } from "../../../src/targets/simulator/random.ts";

export interface Rng {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** The simulator's mulberry32 stream, with the helpers a fuzzer wants. */
export function createRng(seed: number): Rng {
  const { next } = createRandom(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)]!,
    chance: (p) => next() < p,
  };
}

/** The seed for this run: FUZZ_SEED, or a fixed default so CI runs are identical. */
export function fuzzSeed(fallback: number): number {
  const raw = Deno.env.get("FUZZ_SEED");
  return raw ? Number(raw) : fallback;
}

/**
 * Strings that break naive code: lone surrogates, NUL and other controls, bidi overrides,
 * zero-width and combining characters, non-characters, a BOM, long emoji sequences.
 */
export const NASTY_STRINGS: readonly string[] = [
  "\ud800",
  "\udfff",
  "a\ud800b",
  "\udc00\ud800",
  "\u0000",
  "nul\u0000inside",
  "\u0001\u0002\u001f\u007f",
  "\u202eevil\u202c",
  "\u200f\u2066rtl\u2069",
  "\u061c\u05d0\u05d1",
  "😀",
  "👩‍👩‍👧‍👦🏳️‍🌈",
  "\u200b\u200c\u200d\u2060",
  "e\u0301\u0301\u0301\u0301",
  "\ufeffbom",
  "\uffff\ufffe",
  "\u2028\u2029",
  "\u0085next-line",
  "Z\u0351\u0352\u0357\u0303\u0311\u0306\u0300".repeat(20),
  "<script>alert(1)</script>",
  "'; DROP TABLE users; --",
  "${jndi:ldap://x}",
  "../../etc/passwd",
  "%00%2e%2e%2f",
  "\\u0000",
  "user:1",
  "a".repeat(300),
];

/** A random string of `length` UTF-16 units drawn from all planes, surrogates included. */
export function randomUnits(rng: Rng, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCharCode(rng.int(0, 0xffff));
  return s;
}
