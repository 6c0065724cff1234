/**
 * The one place that decides what a failed sync attempt means: retry later, or stop and leave
 * the job in the failed set with the IONOS message for an operator.
 */
import { UnrecoverableError } from "bullmq";
import { IonosApiError, IonosError } from "../src/ionos/errors.ts";
import { TargetApiError, TargetError } from "../src/targets/errors.ts";
import { SyncConflictError, WaitingForDependencyError } from "./errors.ts";

export type FailureKind = "retry" | "permanent";

/**
 * Retryable IONOS and target errors (429, 5xx, timeouts, lost connections) and unknown errors
 * retry.
 */
export function classifyFailure(error: unknown): FailureKind {
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
