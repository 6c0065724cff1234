/** Job defaults shared by the IONOS queue (sync_queue.ts) and the other targets' (target_queue.ts). */
import type { JobsOptions } from "bullmq";

/**
 * Job defaults of every sync queue (IONOS and the other targets'): exponential backoff with
 * jitter, completed jobs kept a day.
 */
export function syncJobDefaults(attempts: number, backoffMs: number): JobsOptions {
  return {
    attempts,
    backoff: { type: "exponential", delay: backoffMs, jitter: 0.5 },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    // Failed jobs stay until an operator retries or discards them, or RETENTION_HOURS pass
    // (src/ops/oplog/retention.ts removes them then: their errors may name the user).
    removeOnFail: false,
  };
}
