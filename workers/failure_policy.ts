/**
 * The one place that decides what a failed sync attempt means: retry later, stop and leave the
 * job in the failed set with the IONOS message for an operator, or give the worker slot back and
 * wait for IONOS requests still running.
 */
import { UnrecoverableError } from "bullmq";
import { IonosApiError, IonosError, IonosRequestFailedError } from "../src/targets/ionos/errors.ts";
import type { PendingRequest } from "../src/targets/ionos/pending_writes.ts";
import type { RequestCheck } from "../src/targets/ionos/request_tracker.ts";
import { TargetApiError, TargetError } from "../src/targets/errors.ts";
import { AwaitingRequestsError, SyncConflictError, WaitingForDependencyError } from "./errors.ts";

export type FailureKind = "retry" | "permanent" | "wait";

/**
 * Retryable IONOS and target errors (429, 5xx, timeouts, lost connections) and unknown errors
 * retry; a step that waits for its requests is no failure at all ("wait": no attempt is used up).
 */
export function classifyFailure(error: unknown): FailureKind {
  if (error instanceof AwaitingRequestsError) return "wait";
  if (
    error instanceof IonosError || error instanceof TargetError ||
    error instanceof SyncConflictError ||
    error instanceof WaitingForDependencyError
  ) {
    return error.retryable ? "retry" : "permanent";
  }
  // Redis hiccups and the like: worth another attempt.
  return "retry";
}

/**
 * Times in a row one job may see a request of its writes end FAILED before the job fails (and
 * BullMQ retries it after a backoff). A FAILED request was not applied, so the step plans again
 * and sends what is still missing; this was 3 sends per write when the client resent in-call.
 */
export const FAILED_REQUEST_ROUNDS = 3;

/**
 * Times one attempt may stop at a write that must land first and run its step again. A step
 * plans from what IONOS shows, so each round has less to do; this bounds a step that, through a
 * bug or a resource that keeps changing under it, would go round for ever spending the rate
 * budget. The attempt then fails (and is retried after a backoff, up to the job's attempts).
 */
export const MAX_STEP_ROUNDS = 20;

/** The failure for an attempt that went round too often, or `undefined`. */
export function stepRoundsExceeded(rounds: number, entity: string): Error | undefined {
  if (rounds <= MAX_STEP_ROUNDS) return undefined;
  return new Error(
    `${entity}: its writes had to land first ${MAX_STEP_ROUNDS} times in one attempt; ` +
      `trying again later`,
  );
}

/** What a job waiting on its requests does next, from what the request tracker knows now. */
export type RequestsDecision =
  /** Some still run: give the slot back and look again later. */
  | { next: "wait" }
  /** All ended. `failed` were not applied: the step plans again and sends them anew. */
  | { next: "go on"; failed: PendingRequest[] }
  /** Watching failed (timeout, poll refused), or too many FAILED rounds: a job failure. */
  | { next: "fail"; error: unknown };

/**
 * Decides between waiting, going on, and failing the attempt.
 *
 * @param failedRounds FAILED rounds this job has already had.
 * @example
 * decideOnRequests([{ request, check: { state: "RUNNING" } }], 0); // { next: "wait" }
 */
export function decideOnRequests(
  checks: { request: PendingRequest; check: RequestCheck }[],
  failedRounds: number,
): RequestsDecision {
  // A request IONOS no longer knows (404; old requests are purged) has an unknown outcome: it is
  // taken as FAILED, and the step plans again from what IONOS shows.
  const unknown = (c: RequestCheck) =>
    c.state === "ERROR" && c.error instanceof IonosApiError && c.error.status === 404;
  const error = checks.find((c) => c.check.state === "ERROR" && !unknown(c.check));
  if (error && error.check.state === "ERROR") return { next: "fail", error: error.check.error };
  if (checks.some((c) => !["DONE", "FAILED", "ERROR"].includes(c.check.state))) {
    return { next: "wait" };
  }
  const failedChecks = checks.filter((c) => c.check.state === "FAILED" || unknown(c.check));
  const failed = failedChecks.map((c) => c.request);
  if (failed.length > 0 && failedRounds + 1 >= FAILED_REQUEST_ROUNDS) {
    const { request, check } = failedChecks[0]!;
    // The client scrubbed the message of the write's secrets, or left it out (checkRequest).
    const message = check.state === "FAILED" ? check.message : undefined;
    return {
      next: "fail",
      error: new IonosRequestFailedError(
        request.id,
        `${request.what} ended FAILED in ${FAILED_REQUEST_ROUNDS} rounds` +
          (message ? `: ${message}` : ""),
      ),
    };
  }
  return { next: "go on", failed };
}

/** A short, secret-free description for the job's failed reason and the twin record. */
export function describeFailure(error: unknown): string {
  if (error instanceof IonosApiError) {
    return `IONOS ${error.status} on ${error.method} ${error.route}: ${error.ionosMessage}`;
  }
  if (error instanceof TargetApiError) {
    return `${error.target} ${error.status} on ${error.method} ${error.route}: ${error.targetMessage}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** How long the cloud asked us to wait before the next attempt (`Retry-After`), if it said. */
export function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof IonosApiError || error instanceof TargetError) return error.retryAfterMs;
  return undefined;
}

/** The error to throw to BullMQ: `UnrecoverableError` stops retries at once. */
export function toJobError(error: unknown): Error {
  if (classifyFailure(error) === "permanent") {
    return new UnrecoverableError(describeFailure(error));
  }
  return error instanceof Error ? error : new Error(String(error));
}
