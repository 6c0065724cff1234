/**
 * A create whose answer was lost is found again on retry (by email or name), but its request may
 * still be running: IONOS refuses writes on a resource whose create is not DONE (422; the
 * Terraform provider once had that bug, ionos-facts.md "Status codes"). While the twin is still
 * marked "creating", a 422 on it therefore means "not yet", not "invalid": the job waits and
 * tries again instead of failing for good.
 */
import { IonosApiError } from "../src/targets/ionos/errors.ts";
import { WaitingForDependencyError } from "./errors.ts";

/**
 * Runs `write`; when `settling`, turns a 422 into a retryable wait.
 *
 * @example
 * await whileCreateSettles(twin?.state === "creating", () => ctx.ionos.updateUser(id, props));
 */
export async function whileCreateSettles<T>(
  settling: boolean,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (settling && error instanceof IonosApiError && error.status === 422) {
      throw new WaitingForDependencyError(
        `our own create's request may still be running (its answer was lost): ${error.ionosMessage}`,
        { cause: error },
      );
    }
    throw error;
  }
}
