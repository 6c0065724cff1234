/** The one error operator actions throw for conditions a caller reports (HTTP status, exit code). */

export type OpsErrorCode = "not_found" | "conflict" | "invalid" | "unavailable";

/**
 * An operator request that cannot be done as asked: unknown job, job not failed, missing reason.
 *
 * @example
 * throw new OpsError("not_found", `no job 42`);
 */
export class OpsError extends Error {
  constructor(readonly code: OpsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OpsError";
  }

  /** The HTTP status the admin API answers with. */
  get status(): 400 | 404 | 409 | 503 {
    return { not_found: 404, conflict: 409, invalid: 400, unavailable: 503 }[this.code] as
      | 400
      | 404
      | 409
      | 503;
  }
}
