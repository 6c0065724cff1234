/**
 * Errors every target client throws. `retryable` and `retryAfterMs` are all the failure policy
 * (`workers/failure_policy.ts`) needs to know, so it reads them here for every cloud. Messages
 * name the target, the method and a route template (never a full URL, a header, a body or a
 * credential), so they are safe to log, to store on a job and to show in `whois`.
 */
import type { TargetName } from "./target.ts";

/** Statuses worth another attempt: rate limit, timeouts and server trouble. */
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Whether an HTTP status from a target is worth retrying later. */
export function isRetryableTargetStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/** Base class: `retryable` says whether the same call may succeed later. */
export class TargetError extends Error {
  override name = "TargetError";
  readonly target: TargetName;
  readonly retryable: boolean;
  /** How long the target asked us to wait (`Retry-After`), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    target: TargetName,
    message: string,
    options: { retryable: boolean; retryAfterMs?: number | undefined; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.target = target;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The target answered with an error status. `route` is a template such as `/v1/users/{id}`. */
export class TargetApiError extends TargetError {
  override name = "TargetApiError";
  readonly status: number;
  readonly method: string;
  readonly route: string;
  /** The target's own error text, with every known secret scrubbed out. */
  readonly targetMessage: string;
  /** The target's own error code, when it gives one (Cloudflare `errors[].code`). */
  readonly code: string | undefined;

  constructor(
    target: TargetName,
    init: {
      status: number;
      method: string;
      route: string;
      targetMessage: string;
      code?: string | undefined;
      retryAfterMs?: number | undefined;
    },
  ) {
    super(
      target,
      `${target} ${init.method} ${init.route} failed with HTTP ${init.status}: ${init.targetMessage}`,
      { retryable: isRetryableTargetStatus(init.status), retryAfterMs: init.retryAfterMs },
    );
    this.status = init.status;
    this.method = init.method;
    this.route = init.route;
    this.targetMessage = init.targetMessage;
    this.code = init.code;
  }
}

/** No HTTP answer: connection refused or reset, DNS failure, or the per-request timeout. */
export class TargetNetworkError extends TargetError {
  override name = "TargetNetworkError";
  constructor(
    target: TargetName,
    readonly method: string,
    readonly route: string,
    reason: string,
    cause?: unknown,
  ) {
    super(target, `${target} ${method} ${route} got no answer: ${reason}`, {
      retryable: true,
      cause,
    });
  }
}

/**
 * Getting a token failed. Wrong credentials stop at once (a person must fix them); a token
 * endpoint that is down or rate limiting is retried.
 */
export class TargetAuthError extends TargetError {
  override name = "TargetAuthError";
  constructor(
    target: TargetName,
    readonly status: number | undefined,
    reason: string,
    options: { retryable: boolean; retryAfterMs?: number | undefined; cause?: unknown },
  ) {
    super(target, `${target} authentication failed: ${reason}`, options);
  }
}

/** The target answered 2xx with a body that is not what its API documents. */
export class TargetResponseError extends TargetError {
  override name = "TargetResponseError";
  constructor(target: TargetName, method: string, route: string, problem: string) {
    super(target, `${target} ${method} ${route} answered unexpectedly: ${problem}`, {
      retryable: false,
    });
  }
}

/** An operation the cloud cannot express (see `TargetCapabilities`). A programming error. */
export class TargetUnsupportedError extends TargetError {
  override name = "TargetUnsupportedError";
  constructor(target: TargetName, operation: string) {
    super(target, `${target} cannot ${operation}`, { retryable: false });
  }
}
