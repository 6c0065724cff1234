/**
 * The fault knobs of the Contabo and Cloudflare simulators, the same as the IONOS simulator's
 * (`src/targets/simulator/faults.ts`): 5xx that are not applied, 429s, slow answers, writes applied but
 * answered 5xx (a lost answer), and "down" (every call 503). Each simulator renders the answer
 * in its own API's error shape; this module only decides, with seeded dice so a seed replays.
 */
import { type FaultKind, faultMatches, type Faults, rollFault, validateFaults } from "./faults.ts";
import { createRandom } from "./random.ts";

/** What to do with one API call. */
export interface FaultDecision {
  /** Wait this long before handling it. */
  delayMs: number;
  /** Answer with this fault instead (`lostAnswer`: apply it, then answer `status`). */
  fault?: FaultKind | undefined;
  /** The status of a 5xx fault or lost answer. */
  status: number;
}

/** Seeded fault dice plus counters, for one simulator. */
export class FaultGate {
  #faults: Faults;
  #dice: ReturnType<typeof createRandom>;
  #down = false;
  readonly counts: Record<FaultKind | "down", number> = {
    error5xx: 0,
    rate429: 0,
    lostAnswer: 0,
    down: 0,
  };

  /**
   * @param seed dice seed. @default 1
   * @throws {TypeError | RangeError} for invalid faults (see `validateFaults`)
   */
  constructor(seed = 1, faults: Faults = {}) {
    this.#dice = createRandom(seed);
    this.#faults = validateFaults(faults);
  }

  /** The faults in force (a copy). */
  get faults(): Faults {
    return structuredClone(this.#faults);
  }

  /** Replaces the faults in force; `{}` switches them off. @throws {TypeError | RangeError} */
  set(faults: Faults): void {
    this.#faults = validateFaults(faults);
  }

  /** Down: every API call answers 503 until switched back. */
  setDown(down: boolean): void {
    this.#down = down;
  }

  get down(): boolean {
    return this.#down;
  }

  /** Rolls the dice for one call; `path` is relative to the API base. */
  decide(method: string, path: string): FaultDecision {
    const status = this.#faults.status5xx ?? 500;
    if (this.#down) {
      this.counts.down++;
      return { delayMs: 0, fault: "error5xx", status: 503 };
    }
    const matches = faultMatches(this.#faults, method, path);
    const fault = matches ? rollFault(this.#faults, method, this.#dice) : undefined;
    if (fault) this.counts[fault]++;
    return {
      delayMs: matches ? this.#faults.latencyMs ?? 0 : 0,
      status,
      fault,
    };
  }
}
