/**
 * How long a write's request takes to reach DONE, as a distribution, and the share that ends
 * FAILED. On the real service this is seconds, not milliseconds (ionos-facts.md, "Requests"),
 * so benchmarks need a `realistic` profile while tests keep a `fast` one.
 */
import type { Random } from "../../simulator/random.ts";

/** A request-duration distribution. Every value is in milliseconds. */
export type DurationDistribution =
  | { kind: "fixed"; ms: number }
  | { kind: "uniform"; minMs: number; maxMs: number }
  /** Log-normal around `medianMs`; `sigma` is the spread of ln(ms); capped at `maxMs`. */
  | { kind: "lognormal"; medianMs: number; sigma: number; maxMs?: number };

/** Request timing of the simulator: how long, and how often FAILED. */
export interface RequestTiming {
  duration: DurationDistribution;
  /** Share (0..1) of write requests that end FAILED (and whose write is undone). */
  failRate: number;
}

/** Named timings, selectable by option and at run time (`POST /__sim/timing`). */
export const TIMING_PROFILES = {
  /** Tests: every request DONE after 20 ms, none FAILED. */
  fast: { duration: { kind: "fixed", ms: 20 }, failRate: 0 },
  /**
   * Benchmarks: median 3 s as measured against IONOS (issue 9), sigma 0.6 puts p90 near 6.5 s
   * and p99 near 12 s; the cap keeps the tail at 15 s. One request in 200 FAILED.
   */
  realistic: {
    duration: { kind: "lognormal", medianMs: 3000, sigma: 0.6, maxMs: 15_000 },
    failRate: 0.005,
  },
} as const satisfies Record<string, RequestTiming>;

export type TimingProfile = keyof typeof TIMING_PROFILES;

/**
 * Draws one duration from `d`.
 * @param rand Seeded source, so a seed replays the same durations.
 */
export function sampleDuration(d: DurationDistribution, rand: Random): number {
  switch (d.kind) {
    case "fixed":
      return d.ms;
    case "uniform":
      return d.minMs + rand.next() * (d.maxMs - d.minMs);
    case "lognormal": {
      // Box-Muller; 1 - next() keeps the logarithm's argument in (0, 1].
      const z = Math.sqrt(-2 * Math.log(1 - rand.next())) * Math.cos(2 * Math.PI * rand.next());
      return Math.min(d.maxMs ?? Infinity, d.medianMs * Math.exp(d.sigma * z));
    }
  }
}

const isMs = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/**
 * Checks a timing given over HTTP or by a test, or resolves a profile name.
 * @throws {TypeError} for an unknown profile, kind or shape.
 * @throws {RangeError} for a negative or non-finite value, or a failRate outside 0..1.
 */
export function resolveTiming(input: unknown): RequestTiming {
  if (typeof input === "string") {
    const profile = TIMING_PROFILES[input as TimingProfile];
    if (!profile) {
      throw new TypeError(
        `Cannot set request timing: unknown profile '${input}' (known: ${
          Object.keys(TIMING_PROFILES).join(", ")
        })`,
      );
    }
    return structuredClone(profile) as RequestTiming;
  }
  if (typeof input !== "object" || input === null) {
    throw new TypeError("Cannot set request timing: expected a profile name or an object");
  }
  const { duration, failRate = 0 } = input as Partial<RequestTiming>;
  if (!(typeof failRate === "number" && failRate >= 0 && failRate <= 1)) {
    throw new RangeError(
      `Cannot set request timing as 'failRate' must be in 0..1: current value is ${failRate}`,
    );
  }
  return { duration: checkDistribution(duration), failRate };
}

function checkDistribution(d: unknown): DurationDistribution {
  const o = (typeof d === "object" && d !== null ? d : {}) as Record<string, unknown>;
  const need = (...names: string[]) => {
    for (const n of names) {
      if (!isMs(o[n])) {
        throw new RangeError(
          `Cannot set request timing as 'duration.${n}' must be a number >= 0: current value is ${
            o[n]
          }`,
        );
      }
    }
  };
  switch (o.kind) {
    case "fixed":
      need("ms");
      return { kind: "fixed", ms: o.ms as number };
    case "uniform":
      need("minMs", "maxMs");
      if ((o.minMs as number) > (o.maxMs as number)) {
        throw new RangeError("Cannot set request timing as 'duration.minMs' exceeds 'maxMs'");
      }
      return { kind: "uniform", minMs: o.minMs as number, maxMs: o.maxMs as number };
    case "lognormal":
      need("medianMs", "sigma");
      if (o.maxMs !== undefined) need("maxMs");
      return {
        kind: "lognormal",
        medianMs: o.medianMs as number,
        sigma: o.sigma as number,
        ...(o.maxMs !== undefined ? { maxMs: o.maxMs as number } : {}),
      };
    default:
      throw new TypeError(
        `Cannot set request timing: 'duration.kind' must be fixed, uniform or lognormal: got ${o.kind}`,
      );
  }
}
