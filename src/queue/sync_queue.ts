/**
 * The sync queue: one job per entity that needs syncing, carrying only which entity. The worker
 * reads the entity's latest wanted state when the job runs, so jobs are idempotent.
 */
import { type ConnectionOptions, type JobsOptions, Queue } from "bullmq";
import type { PendingRequest } from "../targets/ionos/pending_writes.ts";
import type { IonosTwin } from "../targets/ionos/records.ts";
import { type EntityKey, parseEntityKey } from "../store/wanted_state.ts";
import { syncJobDefaults } from "./job_defaults.ts";
import { fanOutToTargets } from "./target_queue.ts";
import { telemetryOption } from "./telemetry.ts";

export const SYNC_QUEUE_NAME = "ionos-sync";

export interface SyncJobData {
  kind: "user" | "group";
  id: string;
  /** Set while the job waits for its IONOS requests with its worker slot given back. */
  waiting?: WaitingStep;
}

/**
 * Where a job stands while IONOS runs its writes (workers/request_steps.ts): which requests, and
 * what to do once they are DONE. Ids, dates and results only: never a request body.
 */
export interface WaitingStep {
  requests: PendingRequest[];
  /** "finish": the step ran to its end; "rerun": it stopped at a write that had to land first. */
  then: "finish" | "rerun";
  /** What the step did ("finish" only): the job's result once its requests are DONE. */
  outcome?: { result: string; ionosId?: string; changes?: string[] };
  /** Bookkeeping that may only happen once the requests are DONE ("finish" only). */
  afterDone?: AfterDone | undefined;
  /** Digest of the wanted state the step planned from (workers/wanted_fingerprint.ts). */
  fingerprint?: string;
  /** Rounds in which a request of this job ended FAILED. */
  failedRounds: number;
  /** Times this attempt stopped at a write that had to land first ("rerun"). */
  rounds?: number;
  /** The rest of an update the step stopped before ("rerun" only), sent first on resume. */
  interrupted?: InterruptedUpdate | undefined;
}

/**
 * A group update planned together with a reduction that had to land first: the run that
 * resumes sends it before planning anew, so the group gets the privileges that plan named (as
 * when the whole plan ran in one go), not a mix left by the reduction alone.
 */
export interface InterruptedUpdate {
  kind: "group";
  ionosId: string;
  /** Name and every privilege flag (no secrets). */
  properties: Record<string, unknown>;
}

/** What a step leaves to do once its writes are DONE (a new user's record and memberships). */
export interface AfterDone {
  record?: { kind: "user" | "group"; id: string; patch: IonosTwin };
  enqueue?: EntityKey[];
}

export interface SyncQueueOptions {
  /** BullMQ key prefix. @default "bull" */
  prefix?: string;
  /** Attempts per job before it lands in the failed set. @default 8 */
  attempts?: number;
  /** First retry delay; doubles each attempt, with jitter. @default 2000 */
  backoffMs?: number;
  /** OpenTelemetry spans for adds (see `telemetry.ts`). @default false */
  tracing?: boolean;
}

export function createSyncQueue(
  connection: ConnectionOptions,
  options: SyncQueueOptions = {},
): Queue<SyncJobData> {
  const { prefix = "bull", attempts = 8, backoffMs = 2000, tracing = false } = options;
  return new Queue<SyncJobData>(SYNC_QUEUE_NAME, {
    connection,
    prefix,
    ...telemetryOption(tracing),
    defaultJobOptions: syncJobDefaults(attempts, backoffMs),
  });
}

/**
 * Job options for one entity. While a job for the entity waits, another add is a no-op (the
 * waiting job will read the newest state); while one runs, BullMQ keeps exactly one follow-up
 * (`keepLastIfActive`), so a change that lands mid-sync is applied afterwards, never dropped.
 */
export function syncJobOptions(key: EntityKey): JobsOptions {
  return { deduplication: { id: key, keepLastIfActive: true } };
}

/**
 * Enqueues one sync job per entity.
 *
 * @returns the id of the job that will sync each entity: a new one, or the one already waiting
 * (or running) that the add was de-duplicated into, as BullMQ's add script answers.
 * @example
 * const jobs = await enqueueSync(queue, ["user:00u1", "group:00g1"]); // { "user:00u1": "7", ... }
 */
export async function enqueueSync(
  queue: Queue<SyncJobData>,
  keys: EntityKey[],
): Promise<Record<EntityKey, string>> {
  if (keys.length === 0) return {};
  const jobs = await queue.addBulk(keys.map((key) => {
    const { kind, id } = parseEntityKey(key);
    return { name: kind, data: { kind, id }, opts: syncJobOptions(key) };
  }));
  // The other targets' jobs (issue 11). Throwing here keeps the entities in the outbox, so the
  // sweeper enqueues them again: IONOS adds are de-duplicated, nothing is sent twice.
  await fanOutToTargets(queue, keys);
  const ids: Record<EntityKey, string> = {};
  keys.forEach((key, i) => {
    const id = jobs[i]?.id;
    if (id) ids[key] = id;
  });
  return ids;
}

export const enqueueUserSync = (queue: Queue<SyncJobData>, id: string) =>
  enqueueSync(queue, [`user:${id}`]);
