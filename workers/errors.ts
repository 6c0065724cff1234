/** Errors the sync steps raise themselves; `failure_policy.ts` reads `retryable`. */
import type { PendingRequest } from "../src/targets/ionos/pending_writes.ts";
import type { AfterDone, InterruptedUpdate } from "../src/queue/sync_queue.ts";

/** The step cannot go on yet because another entity's sync must finish first. */
export class WaitingForDependencyError extends Error {
  override name = "WaitingForDependencyError";
  readonly retryable = true;
}

/** The wanted state contradicts itself or IONOS in a way only a person can resolve. */
export class SyncConflictError extends Error {
  override name = "SyncConflictError";
  readonly retryable = false;
  /**
   * What the step's writes still owe once they are DONE, as a successful step returns it (the
   * record's final state, the groups to enqueue): a conflict found after "the rest was applied"
   * must not drop it, or the user stays "creating" and its groups never add it (model test,
   * ionos seed 733). The step runner applies it after the writes ended DONE.
   */
  readonly afterDone: AfterDone | undefined;

  constructor(
    message?: string,
    options: ErrorOptions & { afterDone?: AfterDone | undefined } = {},
  ) {
    super(message, options);
    this.afterDone = options.afterDone;
  }
}

/**
 * Not a failure: the step sent writes whose requests must be DONE before it may go on (a
 * reduction before the rest, a create before its members). The worker gives the slot back and
 * runs the step again once they are (workers/request_steps.ts).
 */
export class AwaitingRequestsError extends Error {
  override name = "AwaitingRequestsError";
  readonly retryable = true;
  constructor(
    readonly requests: PendingRequest[],
    why: string,
    readonly interrupted?: InterruptedUpdate,
  ) {
    super(`waiting for ${requests.length} IONOS request(s): ${why}`);
  }
}
