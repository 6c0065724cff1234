/**
 * The call log and counters tests and benchmarks assert on. Only method, path, query and
 * outcome are kept: never bodies (passwords) nor the Authorization header.
 */
import type { FaultKind } from "../../simulator/faults.ts";
import { WindowCounter } from "./rate_limit.ts";

/** One API call as the simulator saw it. */
export interface CallRecord {
  /** Arrival time, ms since the epoch. */
  time: number;
  method: string;
  /** Full path, e.g. `/cloudapi/v6/um/users`. */
  path: string;
  query: Record<string, string>;
  status: number;
  durationMs: number;
  /** Authorization scheme used (the value is never kept). */
  auth: "bearer" | "basic" | "none" | "other";
  /** Set when the answer came from fault injection. */
  fault?: FaultKind;
  /** True when the shared rate limit (not a fault) refused the call. */
  rateLimited?: boolean;
  /** Request-status id of an accepted write (also for lost answers). */
  requestId?: string | undefined;
  /** `X-Contract-Number`, when sent. */
  contractNumber?: string;
}

/** Counters since start or the last reset. */
export interface SimulatorStats {
  total: number;
  byStatus: Record<string, number>;
  /** All 429 answers, from the bucket or injected. */
  rateLimited: number;
  faults: Record<FaultKind, number>;
  /** Most calls that arrived within any 1-second window. */
  maxPerSecond: number;
  /** Most calls the bucket let through within any 1-second window (<= burst + rate). */
  maxAcceptedPerSecond: number;
}

/** Collects {@linkcode CallRecord}s and the numbers behind {@linkcode SimulatorStats}. */
export class CallRecorder {
  /** The live log; cleared in place so references held by tests stay valid. */
  readonly log: CallRecord[] = [];
  #arrived = new WindowCounter();
  #accepted = new WindowCounter();
  #byStatus: Record<string, number> = {};
  #faults: Record<FaultKind, number> = { error5xx: 0, rate429: 0, lostAnswer: 0 };
  #total = 0;

  /** @param maxLog Oldest entries are dropped past this many. */
  constructor(private readonly maxLog: number) {}

  /** Notes a call's arrival (before its answer is known), for the per-second maxima. */
  arrive(t: number, accepted: boolean): void {
    this.#arrived.add(t);
    if (accepted) this.#accepted.add(t);
  }

  /** Stores a finished call. */
  record(call: CallRecord): void {
    this.#total++;
    this.#byStatus[call.status] = (this.#byStatus[call.status] ?? 0) + 1;
    if (call.fault) this.#faults[call.fault]++;
    this.log.push(call);
    if (this.log.length > this.maxLog) this.log.splice(0, this.log.length - this.maxLog);
  }

  /** A snapshot of the counters. */
  stats(): SimulatorStats {
    return {
      total: this.#total,
      byStatus: { ...this.#byStatus },
      rateLimited: this.#byStatus[429] ?? 0,
      faults: { ...this.#faults },
      maxPerSecond: this.#arrived.max,
      maxAcceptedPerSecond: this.#accepted.max,
    };
  }

  /** Forgets all calls and counters. */
  clear(): void {
    this.log.length = 0;
    this.#arrived.clear();
    this.#accepted.clear();
    this.#byStatus = {};
    this.#faults = { error5xx: 0, rate429: 0, lostAnswer: 0 };
    this.#total = 0;
  }
}
