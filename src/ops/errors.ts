/** The one error operator actions throw for conditions a caller reports (HTTP status, exit code). */

const STATUS = { not_found: 404, conflict: 409, invalid: 400, unavailable: 503 } as const;

export type OpsErrorCode = keyof typeof STATUS;

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
  get status(): typeof STATUS[OpsErrorCode] {
    return STATUS[this.code];
  }
}
