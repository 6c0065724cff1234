/**
 * Whether IONOS answered recently, learned from the calls the workers make anyway (the client's
 * `onCall` hook), so readiness costs no requests from the shared rate limit.
 */
import type { IonosCallInfo } from "../targets/ionos/client.ts";
import { isHealthyAnswer } from "./sync_metrics.ts";

export interface IonosHealthOptions {
  /** An answer within this window counts as recent. @default 300_000 (5 minutes) */
  recentMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** What `/readyz` reports under `ionos`. */
export interface IonosHealthReport {
  /** "ok": answered recently; "failing": only errors lately; "idle": no calls lately. */
  status: "ok" | "failing" | "idle";
  lastAnswerAt?: string;
  lastFailureAt?: string;
  lastFailure?: string;
}

/**
 * @example
 * const health = new IonosHealth();
 * new IonosClient({ ...options, onCall: health.onCall });
 * app.get("/readyz", (c) => c.json({ ionos: health.report() }));
 */
export class IonosHealth {
  #lastOk = 0;
  #lastFailure = 0;
  #failure = "";
  readonly #recentMs: number;
  readonly #now: () => number;

  constructor(options: IonosHealthOptions = {}) {
    this.#recentMs = options.recentMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  /** For `IonosClient({ onCall })`. */
  readonly onCall = (info: IonosCallInfo): void => {
    if (isHealthyAnswer(info.status)) {
      this.#lastOk = this.#now();
    } else {
      this.#lastFailure = this.#now();
      this.#failure = `${info.status} on ${info.method} ${info.route}`;
    }
  };

  report(): IonosHealthReport {
    const now = this.#now();
    const recentOk = this.#lastOk > 0 && now - this.#lastOk <= this.#recentMs;
    const recentFailure = this.#lastFailure > 0 && now - this.#lastFailure <= this.#recentMs;
    // A failure after the last good answer means IONOS is failing now.
    const status = recentFailure && this.#lastFailure > this.#lastOk
      ? "failing"
      : recentOk
      ? "ok"
      : "idle";
    return {
      status,
      ...(this.#lastOk ? { lastAnswerAt: new Date(this.#lastOk).toISOString() } : {}),
      ...(this.#lastFailure
        ? { lastFailureAt: new Date(this.#lastFailure).toISOString(), lastFailure: this.#failure }
        : {}),
    };
  }
}
