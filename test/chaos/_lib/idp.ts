/**
 * The identity provider's side of delivery: send a request, and on 503 (or no answer) send the
 * same request again until it is accepted, as webhook senders do.
 */

export interface DeliveryLog {
  /** Answers seen, by status ("network" when there was none). */
  statuses: Map<string, number>;
}

export function newDeliveryLog(): DeliveryLog {
  return { statuses: new Map() };
}

/**
 * Posts `body` until a 2xx. 503 and network errors are retried every `retryMs`; any other
 * answer is a bug in the service for these tests and throws at once.
 *
 * @throws {Error} on a status other than 2xx/503, or when `deadline` (epoch ms) passes.
 */
export async function deliverUntilAccepted(
  post: (body: unknown) => Promise<Response>,
  body: unknown,
  log: DeliveryLog,
  deadline: number,
  retryMs = 100,
): Promise<void> {
  for (;;) {
    let status: string;
    try {
      const res = await post(body);
      status = String(res.status);
      const text = await res.text();
      if (res.ok) {
        count(log, status);
        return;
      }
      if (res.status !== 503) throw new Error(`unexpected ${res.status}: ${text}`);
    } catch (error) {
      if ((error as Error).message.startsWith("unexpected")) throw error;
      status = "network";
    }
    count(log, status);
    if (Date.now() > deadline) throw new Error(`not accepted before the deadline (last ${status})`);
    await new Promise((r) => setTimeout(r, retryMs));
  }
}

function count(log: DeliveryLog, status: string): void {
  log.statuses.set(status, (log.statuses.get(status) ?? 0) + 1);
}
