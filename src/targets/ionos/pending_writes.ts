/**
 * Writes sent without waiting for their request: a sync job collects them here, gives its worker
 * slot back while IONOS runs them, and checks them through the request tracker when it resumes
 * (see workers/request_steps.ts). Only ids and dates are kept, never bodies, so the list can go
 * into job data.
 */

/** One request sent and not yet seen DONE. */
export interface PendingRequest {
  /** The IONOS request id (from `Location`). */
  id: string;
  /** The `Date` header of the 202 answer, to bound the requests listing. */
  serverDate?: string | undefined;
  /** What was written, for logs: `POST /um/groups/{id}/users`. */
  what: string;
  /** The resource the answer named (a new user's id), when it named one. */
  target?: string | undefined;
  /**
   * The body carried a secret (a new user's password): a FAILED message, which may echo the
   * body, is only kept where the process that sent it can scrub it.
   */
  secretBody?: boolean | undefined;
}

/**
 * The requests one job run has sent.
 *
 * @example
 * const writes = new PendingWrites();
 * const user = await ionos.deferring(writes).createUser(props); // answers at 202
 * writes.requestFor(user.id); // { id: "req-1", what: "POST /um/users", ... }
 */
export class PendingWrites {
  readonly #requests: PendingRequest[] = [];

  /** Every request sent so far, oldest first (a copy). */
  get requests(): PendingRequest[] {
    return [...this.#requests];
  }

  get size(): number {
    return this.#requests.length;
  }

  add(request: PendingRequest): void {
    this.#requests.push(request);
  }

  /** The latest request whose answer named `resourceId` (a create's new resource). */
  requestFor(resourceId: string): PendingRequest | undefined {
    return this.#requests.findLast((r) => r.target === resourceId);
  }
}
