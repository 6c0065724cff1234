/**
 * Errors thrown by the IONOS client. Callers decide retry vs. stop by `retryable` alone, so the
 * classification lives here, in one place. Messages name the method and the route template
 * (never a full URL, a header or a request body), so they are safe to log and to store.
 */

/** Base class: `retryable` says whether the same call may succeed later. */
export class IonosError extends Error {
  override name = "IonosError";
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
  }
}

/** HTTP statuses worth retrying: rate limit, timeouts and server trouble (ionos-facts.md). */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Whether an HTTP status from IONOS is worth retrying later. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/**
 * IONOS answered with an error status.
 *
 * `ionosMessage` is the joined `messages[].message` of the IONOS error body (or a short text
 * when the body is not JSON); `route` is a template such as `/um/users/{id}`.
 */
export class IonosApiError extends IonosError {
  override name = "IonosApiError";
  readonly status: number;
  readonly ionosMessage: string;
  readonly errorCode: string | undefined;
  readonly method: string;
  readonly route: string;
  /** From `Retry-After` on 429/503, when present. */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    status: number;
    ionosMessage: string;
    errorCode?: string | undefined;
    method: string;
    route: string;
    retryAfterMs?: number | undefined;
  }) {
    super(
      `IONOS ${init.method} ${init.route} failed with HTTP ${init.status}: ${init.ionosMessage}`,
      { retryable: isRetryableStatus(init.status) },
    );
    this.status = init.status;
    this.ionosMessage = init.ionosMessage;
    this.errorCode = init.errorCode;
    this.method = init.method;
    this.route = init.route;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** No HTTP answer: connection refused or reset, DNS failure, or the per-request timeout. */
export class IonosNetworkError extends IonosError {
  override name = "IonosNetworkError";
  readonly method: string;
  readonly route: string;

  constructor(method: string, route: string, reason: string, cause?: unknown) {
    super(`IONOS ${method} ${route} got no answer: ${reason}`, { retryable: true, cause });
    this.method = method;
    this.route = route;
  }
}

/**
 * IONOS accepted a write but the request ended FAILED, so the write was not applied. Retryable:
 * the reason is not published and is often on IONOS's side (issue 9 asks for FAILED writes to
 * be retried); the job's attempt limit still ends one that fails every time.
 */
export class IonosRequestFailedError extends IonosError {
  override name = "IonosRequestFailedError";
  readonly requestId: string;
  readonly statusMessage: string;

  constructor(requestId: string, statusMessage: string) {
    super(`IONOS request ${requestId} FAILED: ${statusMessage}`, { retryable: true });
    this.requestId = requestId;
    this.statusMessage = statusMessage;
  }
}

/**
 * A request did not reach DONE in time. It may still finish, so the caller should look the
 * resource up before repeating the write.
 */
export class IonosRequestTimeoutError extends IonosError {
  override name = "IonosRequestTimeoutError";
  readonly requestId: string;
  readonly lastStatus: string | undefined;

  constructor(requestId: string, waitedMs: number, lastStatus: string | undefined) {
    super(
      `IONOS request ${requestId} not DONE after ${waitedMs} ms (last status ${
        lastStatus ?? "unknown"
      })`,
      { retryable: true },
    );
    this.requestId = requestId;
    this.lastStatus = lastStatus;
  }
}
