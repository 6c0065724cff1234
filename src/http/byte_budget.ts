/**
 * A process-wide budget of bytes in flight, for bodies read before their sender is known
 * (signature routes must read the body to check the signature). 400 unauthenticated sockets
 * trickling 1 MiB each took RSS from 191 MB to 1,675 MB; with a budget, the 9th MiB is refused
 * before a byte of it is read.
 */

/** 8 MiB: a few hundred ordinary webhook deliveries at once, far below a worrying RSS. */
export const DEFAULT_UNAUTHENTICATED_BYTES = 8 * 1024 * 1024;

/** Bytes reserved from a shared total; a reservation is handed back with its release function. */
export class ByteBudget {
  readonly #capacity: number;
  #inFlight = 0;

  /**
   * @param capacity bytes that may be reserved at once. @default 8 MiB
   * @throws {RangeError} when `capacity` is not a positive integer
   */
  constructor(capacity: number = DEFAULT_UNAUTHENTICATED_BYTES) {
    if (!Number.isSafeInteger(capacity) || capacity <= 0) {
      throw new RangeError(
        `Cannot create ByteBudget as 'capacity' must be a positive integer: current value is ${capacity}`,
      );
    }
    this.#capacity = capacity;
  }

  /** Bytes reserved now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Reserves `bytes`, or returns undefined when they do not fit.
   * @returns a release function; calling it more than once releases once
   */
  tryReserve(bytes: number): (() => void) | undefined {
    if (this.#inFlight + bytes > this.#capacity) return undefined;
    this.#inFlight += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight -= bytes;
    };
  }
}
