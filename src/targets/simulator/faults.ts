/**
 * Fault injection: what can go wrong between a client and a target's API, switchable at run
 * time. Shared by the three simulators (IONOS directly, Contabo and Cloudflare through
 * fault_gate.ts). Dice come from the simulator's seeded {@linkcode Random}, so a seed replays
 * the same faults.
 */
import type { Random } from "./random.ts";

/** Faults to inject into API calls (not into `/__sim` admin routes). All default to off. */
export interface Faults {
  /** Probability (0..1) that a matching call fails with `status5xx` and is NOT applied. */
  error5xxRate?: number;
  /** Probability that a matching call gets 429 (`Retry-After: 1`) whatever the bucket holds. */
  rate429?: number;
  /** Extra delay in ms before a matching call is handled. */
  latencyMs?: number;
  /** Probability that a matching write IS applied but answered with `status5xx`. */
  lostAnswerRate?: number;
  /** Status for 5xx faults and lost answers. @default {500} */
  status5xx?: number;
  /** Only calls with these methods (e.g. `["POST"]`) are affected. @default {all} */
  methods?: string[];
  /** Only writes (POST, PUT, DELETE) are affected. @default {false} */
  writesOnly?: boolean;
  /** Only paths below `/cloudapi/v6` starting with this (e.g. `"/um/groups"`). @default {all} */
  pathPrefix?: string;
}

/** Which fault was injected into a call. */
export type FaultKind = "error5xx" | "rate429" | "lostAnswer";

const WRITES = new Set(["POST", "PUT", "DELETE", "PATCH"]);

/** True for methods that change state. */
export function isWrite(method: string): boolean {
  return WRITES.has(method.toUpperCase());
}

const isRate = (v: unknown): boolean => typeof v === "number" && v >= 0 && v <= 1;
const CHECKS: Record<keyof Faults, [(v: unknown) => boolean, string]> = {
  error5xxRate: [isRate, "a number in 0..1"],
  rate429: [isRate, "a number in 0..1"],
  lostAnswerRate: [isRate, "a number in 0..1"],
  latencyMs: [(v) => typeof v === "number" && v >= 0, "a number >= 0"],
  status5xx: [
    (v) => Number.isInteger(v) && (v as number) >= 500 && (v as number) <= 599,
    "500..599",
  ],
  methods: [(v) => Array.isArray(v) && v.every((m) => typeof m === "string"), "a string array"],
  writesOnly: [(v) => typeof v === "boolean", "a boolean"],
  pathPrefix: [(v) => typeof v === "string", "a string"],
};

/**
 * Checks faults given over HTTP or by a test. Unknown keys are refused, so a typo cannot
 * silently switch a fault off.
 * @throws {TypeError} for a non-object or an unknown key.
 * @throws {RangeError} for a value of the wrong type or range.
 */
export function validateFaults(input: unknown): Faults {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError("Cannot set faults: expected an object");
  }
  for (const [key, value] of Object.entries(input)) {
    const check = CHECKS[key as keyof Faults];
    if (!check) throw new TypeError(`Cannot set faults: unknown key '${key}'`);
    if (value !== undefined && !check[0](value)) {
      throw new RangeError(`Cannot set faults: '${key}' must be ${check[1]}: got ${value}`);
    }
  }
  const out = structuredClone(input) as Faults;
  if (out.methods) out.methods = out.methods.map((m) => m.toUpperCase());
  return out;
}

/** True if `faults` are meant for this call. `path` is relative to `/cloudapi/v6`. */
export function faultMatches(faults: Faults, method: string, path: string): boolean {
  if (faults.writesOnly && !isWrite(method)) return false;
  if (faults.methods && !faults.methods.includes(method.toUpperCase())) return false;
  return !faults.pathPrefix || path.startsWith(faults.pathPrefix);
}

/**
 * Rolls the dice for one matching call. Order matters for reproducibility: 429 first (the
 * gateway answers before the backend), then 5xx, then lost answers (writes only).
 */
export function rollFault(faults: Faults, method: string, rand: Random): FaultKind | undefined {
  if (faults.rate429 && rand.next() < faults.rate429) return "rate429";
  if (faults.error5xxRate && rand.next() < faults.error5xxRate) return "error5xx";
  if (isWrite(method) && faults.lostAnswerRate && rand.next() < faults.lostAnswerRate) {
    return "lostAnswer";
  }
  return undefined;
}
