/**
 * Waits until replicas have what this connection wrote, so an event the intake answered 2xx for
 * survives the primary's loss: Sentinel promotes a replica, and replication is asynchronous.
 *
 * Redis `WAIT numreplicas timeout` blocks this client until that many replicas acknowledged all
 * its writes so far, and answers how many did (https://redis.io/docs/latest/commands/wait/).
 * It makes a write survive a failover to a replica that has it; Sentinel promotes the replica
 * with the most replicated data (https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/#replica-selection-and-priority).
 */
import type { Redis } from "ioredis";

/** How many replicas must confirm a write, and for how long to wait for them. */
export interface ReplicaAcks {
  /** 0 skips the wait. */
  replicas: number;
  timeoutMs: number;
}

/** Fewer replicas confirmed a write than asked for: the caller answers 503 and is asked again. */
export class ReplicaAckError extends Error {
  constructor(readonly wanted: number, readonly acknowledged: number, readonly timeoutMs: number) {
    super(
      `only ${acknowledged} of ${wanted} Redis replica(s) confirmed the write within ${timeoutMs} ms`,
    );
    this.name = "ReplicaAckError";
  }
}

/**
 * Resolves once `acks.replicas` replicas have every write this connection made so far.
 *
 * @throws {ReplicaAckError} when fewer confirm within `acks.timeoutMs`
 */
export async function waitForReplicas(redis: Redis, acks: ReplicaAcks): Promise<void> {
  if (acks.replicas <= 0) return;
  const acknowledged = await redis.wait(acks.replicas, acks.timeoutMs);
  if (acknowledged < acks.replicas) {
    throw new ReplicaAckError(acks.replicas, acknowledged, acks.timeoutMs);
  }
}
