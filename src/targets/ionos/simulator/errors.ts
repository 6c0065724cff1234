/**
 * IONOS-shaped errors. Handlers throw {@linkcode IonosApiError}; the app's `onError` turns it
 * into the `{httpStatus, messages: [{errorCode, message}]}` body the real API sends.
 */
import type { IonosErrorBody } from "../types.ts";

/**
 * An answer the simulated API gives on purpose (404, 422, ...), not a simulator bug.
 *
 * @example
 * ```ts
 * throw new IonosApiError(404, "Resource does not exist");
 * ```
 */
export class IonosApiError extends Error {
  /**
   * @param status HTTP status to answer with.
   * @param message Human text; prefixed with a VDC-style tag in the body.
   * @param headers Extra response headers (e.g. `Retry-After`).
   */
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "IonosApiError";
  }
}

// The real errorCodes for these cases are undocumented (ionos-facts.md): clients must classify
// by HTTP status, so these values only need to be stable.
const ERROR_CODES: Record<number, string> = {
  400: "100",
  401: "315",
  404: "309",
  405: "101",
  415: "102",
  422: "200",
  429: "429",
};

/** Builds the IONOS error body for `status`. */
export function ionosErrorBody(status: number, message: string): IonosErrorBody {
  const errorCode = ERROR_CODES[status] ?? String(status);
  return {
    httpStatus: status,
    messages: [{ errorCode, message: `[VDC-sim-${status}] ${message}` }],
  };
}

/** A complete IONOS error response. */
export function ionosErrorResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(ionosErrorBody(status, message)), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}
