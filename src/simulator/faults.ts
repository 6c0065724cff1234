/**
 * Fault injection: what can go wrong between a client and IONOS, switchable at run time.
 * Dice come from the simulator's seeded {@linkcode Random}, so a seed replays the same faults.
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

/**
 * Checks faults given over HTTP or by a test.
 * @throws {TypeError} for a non-object or wrongly typed field.
 * @throws {RangeError} for a rate outside 0..1, a negative latency or a non-5xx status.
 */
export function validateFaults(input: unknown): Faults {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError("Cannot set faults: expected an object");
  }
  const f = input as Record<string, unknown>;
  for (const key of ["error5xxRate", "rate429", "lostAnswerRate"]) {
    const v = f[key];
    if (v !== undefined && (typeof v !== "number" || !(v >= 0 && v <= 1))) {
      throw new RangeError(`Cannot set faults: '${key}' must be in 0..1: current value is ${v}`);
    }
  }
  if (f.latencyMs !== undefined && !(typeof f.latencyMs === "number" && f.latencyMs >= 0)) {
    throw new RangeError(`Cannot set faults: 'latencyMs' must be >= 0: got ${f.latencyMs}`);
  }
  const s = f.status5xx;
  if (s !== undefined && !(Number.isInteger(s) && (s as number) >= 500 && (s as number) <= 599)) {
    throw new RangeError(`Cannot set faults: 'status5xx' must be 500..599: got ${s}`);
  }
  if (
    f.methods !== undefined &&
    !(Array.isArray(f.methods) && f.methods.every((m) => typeof m === "string"))
  ) {
    throw new TypeError("Cannot set faults: 'methods' must be an array of strings");
  }
  if (f.writesOnly !== undefined && typeof f.writesOnly !== "boolean") {
    throw new TypeError("Cannot set faults: 'writesOnly' must be a boolean");
  }
  if (f.pathPrefix !== undefined && typeof f.pathPrefix !== "string") {
    throw new TypeError("Cannot set faults: 'pathPrefix' must be a string");
  }
  const out = structuredClone(f) as Faults;
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
