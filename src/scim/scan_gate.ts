/**
 * Caps how many full-store scans run at once. A scan holds one page of documents at a time, so
 * memory stays under about `maxConcurrent × pageSize × document size` however many clients send
 * unindexed filters together (issue 9: 100 concurrent `or` filters took 1.5 GB at 5,000 users).
 */

/** Options for {@linkcode ScanGate}. */
export interface ScanGateOptions {
  /** Scans running at once; the rest wait their turn. @default 4 */
  maxConcurrent?: number;
}

/**
 * A counting semaphore for scans.
 *
 * @example
 * const gate = new ScanGate({ maxConcurrent: 2 });
 * const total = await gate.run(() => countMatches());
 */
export class ScanGate {
  readonly #max: number;
  #running = 0;
  readonly #queue: (() => void)[] = [];

  /** @throws {RangeError} for a `maxConcurrent` below 1. */
  constructor(options: ScanGateOptions = {}) {
    const { maxConcurrent = 4 } = options;
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new RangeError(
        `Cannot gate scans as 'maxConcurrent' must be a positive integer: current value is ${maxConcurrent}`,
      );
    }
    this.#max = maxConcurrent;
  }

  /** Scans running now. */
  get running(): number {
    return this.#running;
  }

  /** Runs `scan` when a slot is free, and frees it after, also on error. */
  async run<T>(scan: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#max) await new Promise<void>((r) => this.#queue.push(r));
    else this.#running++;
    try {
      return await scan();
    } finally {
      const next = this.#queue.shift();
      if (next) next(); // the slot passes on: #running stays
      else this.#running--;
    }
  }
}
