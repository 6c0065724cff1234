/**
 * Queues for the targets beside IONOS: one BullMQ queue per target, one job per (target,
 * entity). A separate queue per target is what keeps a target that is down from holding up
 * another: each has its own workers, retries and rate limiter. IONOS keeps its queue, job ids
 * and path (`sync_queue.ts`); `enqueueSync` fans out to the queues attached here.
 */
import { type ConnectionOptions, type JobsOptions, Queue } from "bullmq";
import type { Mapping } from "../config/mapping.ts";
import { type EntityKey, parseEntityKey } from "../store/wanted_state.ts";
import type { TargetName } from "../targets/target.ts";
import { syncJobDefaults } from "./job_defaults.ts";
import { telemetryOption } from "./telemetry.ts";

/** Targets that run on these queues (IONOS has its own). */
export type QueuedTarget = Exclude<TargetName, "ionos">;

/** `target-sync-contabo`, `target-sync-cloudflare`. */
export const targetQueueName = (target: QueuedTarget) => `target-sync-${target}`;

export interface TargetJobData {
  target: QueuedTarget;
  kind: "user" | "group";
  id: string;
}

/** Options for {@linkcode createTargetQueue}. */
export interface TargetQueueOptions {
  /** @default "bull" */
  prefix?: string;
  /** @default 8 */
  attempts?: number;
  /** @default 2000 */
  backoffMs?: number;
  /** @default false */
  tracing?: boolean;
}

/** The queue of one target, with the same job defaults as the IONOS queue. */
export function createTargetQueue(
  connection: ConnectionOptions,
  target: QueuedTarget,
  options: TargetQueueOptions = {},
): Queue<TargetJobData> {
  const { prefix = "bull", attempts = 8, backoffMs = 2000, tracing = false } = options;
  return new Queue<TargetJobData>(targetQueueName(target), {
    connection,
    prefix,
    ...telemetryOption(tracing),
    defaultJobOptions: syncJobDefaults(attempts, backoffMs),
  });
}

/** De-duplicated per (target, entity), as IONOS jobs are per entity. */
export function targetJobOptions(target: QueuedTarget, key: EntityKey): JobsOptions {
  return { deduplication: { id: `${target}:${key}`, keepLastIfActive: true } };
}

/** Enqueues one job per (target, entity) on each target's queue. */
export async function enqueueTargetSyncs(
  queues: readonly Queue<TargetJobData>[],
  keys: readonly EntityKey[],
): Promise<void> {
  if (keys.length === 0) return;
  await Promise.all(queues.map((queue) => queue.addBulk(keys.map((key) => targetJob(queue, key)))));
}

// The IONOS queue is handed around everywhere (intake, SCIM, outbox, reconcile, ops); attaching
// the target queues to it lets every one of those fan out without a new parameter on each path.
const attached = new WeakMap<object, readonly Queue<TargetJobData>[]>();

/** From now on, every `enqueueSync(ionosQueue, ...)` also enqueues on these target queues. */
export function attachTargetQueues(ionosQueue: object, queues: readonly Queue<TargetJobData>[]) {
  attached.set(ionosQueue, queues);
}

/** The target queues attached to `ionosQueue` (none: empty). */
export function attachedTargetQueues(ionosQueue: object): readonly Queue<TargetJobData>[] {
  return attached.get(ionosQueue) ?? [];
}

/** The job data and options of `key`'s job on a target's queue. */
export function targetJob(
  queue: Queue<TargetJobData>,
  key: EntityKey,
): { name: string; data: TargetJobData; opts: JobsOptions } {
  const target = queue.name.slice("target-sync-".length) as QueuedTarget;
  const { kind, id } = parseEntityKey(key);
  return { name: kind, data: { target, kind, id }, opts: targetJobOptions(target, key) };
}

/** Fans the entities out to the target queues attached to `ionosQueue` (none: nothing). */
export async function fanOutToTargets(ionosQueue: object, keys: readonly EntityKey[]) {
  const queues = attached.get(ionosQueue);
  if (queues?.length) await enqueueTargetSyncs(queues, keys);
}

/** The non-IONOS targets the mapping lists. */
export function queuedTargets(mapping: Pick<Mapping, "targets">): QueuedTarget[] {
  return mapping.targets.filter((t): t is QueuedTarget => t !== "ionos");
}

/**
 * Creates the queues of the targets the mapping lists and attaches them to the IONOS queue, so
 * that every `enqueueSync` on it fans out. Returns them, to be closed with the IONOS queue.
 */
export function attachTargetQueuesFor(
  ionosQueue: object,
  connection: ConnectionOptions,
  mapping: Pick<Mapping, "targets">,
  options: TargetQueueOptions,
): Queue<TargetJobData>[] {
  const queues = queuedTargets(mapping).map((t) => createTargetQueue(connection, t, options));
  attachTargetQueues(ionosQueue, queues);
  return queues;
}
