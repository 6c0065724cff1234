/** Errors the sync steps raise themselves; `failure_policy.ts` reads `retryable`. */

/** The step cannot go on yet because another entity's sync must finish first. */
export class WaitingForDependencyError extends Error {
  override name = "WaitingForDependencyError";
  readonly retryable = true;
}

/** The wanted state contradicts itself or IONOS in a way only a person can resolve. */
export class SyncConflictError extends Error {
  override name = "SyncConflictError";
  readonly retryable = false;
}
