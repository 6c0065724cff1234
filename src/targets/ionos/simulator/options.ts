/** Options of the simulator, with their defaults in one place. */
import { type RequestTiming, resolveTiming, type TimingProfile } from "./duration.ts";
import type { Faults } from "../../simulator/faults.ts";

/** Options for {@linkcode createIonosSimulator}. */
export interface SimulatorOptions {
  /** Accepted as `Authorization: Bearer <token>`. @default {"sim-token"} */
  token?: string | undefined;
  /** Accepted with `password` as Basic auth. @default {"sim@example.com"} */
  username?: string | undefined;
  /** Basic auth password. @default {"sim-password"} */
  password?: string | undefined;
  /**
   * Time a write's request takes to reach DONE; 0 = DONE at once. Shorthand for a `fixed`
   * {@linkcode requestTiming}, which wins when both are given. @default {20}
   */
  requestDelayMs?: number | undefined;
  /**
   * How long requests take (a distribution) and the share that ends FAILED: a profile name
   * (`fast`: 20 ms; `realistic`: median 3 s, tail to 15 s, some FAILED) or a timing.
   * Changeable at run time with `POST /__sim/timing`. @default {fixed requestDelayMs}
   */
  requestTiming?: TimingProfile | RequestTiming | undefined;
  /** Refill rate of the shared token bucket; 0 or Infinity = no limit. @default {50} */
  rateLimitPerSecond?: number | undefined;
  /** Bucket size, sent as `X-RateLimit-Burst`. @default {rateLimitPerSecond} */
  rateLimitBurst?: number | undefined;
  /** Delay in ms added to every API call. @default {0} */
  latencyMs?: number | undefined;
  /** Seed for fault dice and generated ids; same seed, same run. @default {random} */
  seed?: number | undefined;
  /** Faults active from the start. @default {{}} */
  faults?: Faults | undefined;
  /**
   * Answer 422 to writes on a user or group whose create request is not DONE yet. IONOS tools
   * all wait for DONE and Terraform had a bug from not waiting (ionos-facts.md), so the
   * simulator makes that mistake visible. @default {true}
   */
  requireCreateDone?: boolean | undefined;
  /** Call-log entries kept (oldest dropped). @default {100000} */
  maxCallLog?: number | undefined;
}

/** Options with every default applied. */
export type ResolvedOptions =
  & {
    [K in Exclude<keyof SimulatorOptions, "seed" | "requestTiming">]-?: Exclude<
      SimulatorOptions[K],
      undefined
    >;
  }
  & {
    seed: number;
    requestTiming: RequestTiming;
  };

/**
 * Applies defaults and checks ranges.
 * @throws {RangeError} for a negative delay, rate, burst or latency, or a bad timing.
 * @throws {TypeError} for an unknown timing profile.
 */
export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  const { requestTiming, ...rest } = options;
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  const o: Omit<ResolvedOptions, "requestTiming"> = {
    token: "sim-token",
    username: "sim@example.com",
    password: "sim-password",
    requestDelayMs: 20,
    rateLimitPerSecond: 50,
    rateLimitBurst: options.rateLimitPerSecond ?? 50,
    latencyMs: 0,
    seed: Math.floor(Math.random() * 2 ** 32),
    faults: {},
    requireCreateDone: true,
    maxCallLog: 100_000,
    ...given,
  };
  for (const name of ["requestDelayMs", "rateLimitPerSecond", "latencyMs", "maxCallLog"] as const) {
    if (!(o[name] >= 0)) {
      throw new RangeError(
        `Cannot start the simulator as '${name}' must be >= 0: current value is ${o[name]}`,
      );
    }
  }
  if (
    o.rateLimitPerSecond > 0 && Number.isFinite(o.rateLimitPerSecond) && !(o.rateLimitBurst >= 1)
  ) {
    throw new RangeError(
      "Cannot start the simulator as 'rateLimitBurst' must be >= 1 when limiting",
    );
  }
  const timing = resolveTiming(
    requestTiming ?? { duration: { kind: "fixed", ms: o.requestDelayMs }, failRate: 0 },
  );
  return { ...o, requestTiming: timing };
}
