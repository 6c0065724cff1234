/**
 * Enqueues jobs for entities left in the outbox: their wanted state was stored but the intake
 * could not enqueue (Redis went away between the two steps). Runs in the worker role.
 */
import type { Queue } from "bullmq";
import type { Logger } from "../src/log.ts";
import { enqueueSync, type SyncJobData } from "../src/queue/sync_queue.ts";
import type { WantedStateStore } from "../src/store/wanted_state.ts";

export interface OutboxSweeperOptions {
  /** How often to look. @default 10_000 */
  intervalMs?: number;
  /** Entries younger than this belong to an intake still at work. @default 5_000 */
  graceMs?: number;
}

/** Runs one sweep; returns how many entities were enqueued. */
export async function sweepOutbox(
  store: WantedStateStore,
  queue: Queue<SyncJobData>,
  graceMs = 5_000,
): Promise<number> {
  const { entities, stamp } = await store.pendingOutbox(graceMs);
  await enqueueSync(queue, entities);
  await store.clearOutbox(entities, stamp);
  return entities.length;
}

/** Starts sweeping every `intervalMs`; returns a function that stops it. */
export function startOutboxSweeper(
  store: WantedStateStore,
  queue: Queue<SyncJobData>,
  logger: Logger,
  options: OutboxSweeperOptions = {},
): () => void {
  const { intervalMs = 10_000, graceMs = 5_000 } = options;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const n = await sweepOutbox(store, queue, graceMs);
      if (n > 0) logger.warn("outbox: enqueued jobs the intake could not", { entities: n });
    } catch (error) {
      logger.warn("outbox sweep failed; will try again", { error: (error as Error).message });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(tick, intervalMs);
  void tick();
  return () => clearInterval(timer);
}
