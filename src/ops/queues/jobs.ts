/**
 * Operator actions on sync jobs: list, show, retry, discard, pause and resume processing.
 *
 * Retry does not call BullMQ's `job.retry()`: that puts the old job back without its
 * de-duplication key, so a new event for the same entity could start a second job and two
 * workers would sync one user at once. Instead, retry enqueues a fresh sync for each entity
 * (de-duplicated as usual; the worker reads the newest wanted state anyway) and removes the
 * entity's failed jobs, recording them in the audit log.
 */
import type { Job, Queue } from "bullmq";
import { type SyncJobData, syncJobOptions } from "../../queue/sync_queue.ts";
import { type EntityKey, entityKey } from "../../store/wanted_state.ts";
import type { AuditLog } from "../oplog/audit_log.ts";
import { OpsError } from "../errors.ts";
import { definedProps } from "../../defined_props.ts";

export const JOB_STATES = [
  "waiting",
  "active",
  "delayed",
  "failed",
  "completed",
  "prioritized",
] as const;
export type JobState = typeof JOB_STATES[number];

/** What operators see of a job in a list. */
export interface JobSummary {
  id: string;
  entity: EntityKey;
  state: string;
  /** Attempts made so far. */
  attempts: number;
  maxAttempts: number;
  /** The last failure: "IONOS <status> on <METHOD> <route>: <message>". */
  lastError?: string;
  /** The worker's summary of what it did, for completed jobs. */
  result?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** For delayed jobs: when the next attempt may run. */
  runAt?: string;
}

/** One job in full. Job data is only `{kind, id}`, so nothing here is secret. */
export interface JobDetail extends JobSummary {
  data: SyncJobData;
  options: { attempts?: number; backoff?: unknown; deduplicationId?: string };
  returnValue?: unknown;
  stacktrace: string[];
  logs: string[];
}

export interface JobFilter {
  /** @default "failed" */
  state?: JobState | undefined;
  entity?: string | undefined;
  /** Case-insensitive text the last error must contain. */
  errorContains?: string | undefined;
  /** @default 50 */
  limit?: number | undefined;
  /** Skip this many matches. @default 0 */
  offset?: number | undefined;
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);

/** The entity a sync job is for. */
export const jobEntity = (job: Job<SyncJobData>): EntityKey =>
  entityKey(job.data.kind, job.data.id);

/** A job as listed; `state` is passed in when known to spare a round trip. */
export function summarizeJob(job: Job<SyncJobData>, state: string): JobSummary {
  const rv = job.returnvalue as { result?: string } | null | undefined;
  const runAt = state === "delayed" ? iso(job.timestamp + (job.delay ?? 0)) : undefined;
  const out: JobSummary = {
    id: String(job.id),
    entity: jobEntity(job),
    state,
    attempts: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    createdAt: iso(job.timestamp)!,
  };
  if (job.failedReason) out.lastError = job.failedReason;
  if (rv?.result) out.result = rv.result;
  if (job.processedOn) out.startedAt = iso(job.processedOn)!;
  if (job.finishedOn) out.finishedAt = iso(job.finishedOn)!;
  if (runAt) out.runAt = runAt;
  return out;
}

/**
 * Jobs in one state, newest first, optionally filtered by entity or error text.
 *
 * @example
 * const failed = await listJobs(queue, { state: "failed", errorContains: "IONOS 503" });
 */
export async function listJobs(
  queue: Queue<SyncJobData>,
  filter: JobFilter = {},
): Promise<JobSummary[]> {
  const { state = "failed", limit = 50, offset = 0 } = filter;
  const out: JobSummary[] = [];
  let skipped = 0;
  for await (const job of iterateJobs(queue, state)) {
    if (!matchesFilter(job, filter)) continue;
    if (skipped++ < offset) continue;
    out.push(summarizeJob(job, state));
    if (out.length >= limit) break;
  }
  return out;
}

/** Every job in one state, newest first, read 200 at a time. */
export async function* iterateJobs(
  queue: Queue<SyncJobData>,
  state: JobState,
): AsyncGenerator<Job<SyncJobData>> {
  const page = 200;
  for (let start = 0;; start += page) {
    const jobs = await queue.getJobs([state], start, start + page - 1, false);
    for (const job of jobs) if (job) yield job;
    if (jobs.length < page) return;
  }
}

function matchesFilter(job: Job<SyncJobData>, filter: JobFilter): boolean {
  if (filter.entity && jobEntity(job) !== filter.entity) return false;
  if (filter.errorContains) {
    const reason = (job.failedReason ?? "").toLowerCase();
    if (!reason.includes(filter.errorContains.toLowerCase())) return false;
  }
  return true;
}

/**
 * One job in full.
 * @throws {OpsError} not_found
 */
export async function showJob(queue: Queue<SyncJobData>, id: string): Promise<JobDetail> {
  const job = await queue.getJob(id);
  if (!job) throw new OpsError("not_found", `no job ${id} (finished jobs are kept for a day)`);
  const [state, logs] = await Promise.all([job.getState(), queue.getJobLogs(id, 0, 99)]);
  const opts = job.opts as { attempts?: number; backoff?: unknown; deduplication?: { id: string } };
  return {
    ...summarizeJob(job, state),
    data: job.data,
    // Without unset keys: `cli jobs show` aligns and prints the options by their keys.
    options: definedProps({
      attempts: opts.attempts || undefined,
      backoff: opts.backoff || undefined,
      deduplicationId: opts.deduplication?.id,
    }),
    returnValue: job.returnvalue || undefined,
    stacktrace: (job.stacktrace ?? []).slice(-5),
    logs: logs.logs,
  };
}

/** Which failed jobs to retry: one job, every failed job, or those matching a filter. */
export type RetrySelection =
  | { jobId: string }
  | { all: true }
  | { entity?: string | undefined; errorContains?: string | undefined };

export interface RetryResult {
  /** One entry per entity: the new (or already queued) job and the failed jobs it replaces. */
  retried: {
    entity: EntityKey;
    jobId: string;
    replaced: string[];
    lastError?: string | undefined;
  }[];
}

export interface OpsDeps {
  queue: Queue<SyncJobData>;
  audit: AuditLog;
  /** Who acts, for the audit log: "cli:<user>", "admin-api". */
  actor: string;
}

/**
 * Retries failed jobs: one fresh sync job per entity, then the entity's failed jobs are removed.
 *
 * @throws {OpsError} not_found / conflict for a single job id that is unknown or not failed
 * @example
 * const { retried } = await retryFailed(deps, { all: true });
 */
export async function retryFailed(
  deps: OpsDeps,
  selection: RetrySelection,
): Promise<RetryResult> {
  const byEntity = new Map<EntityKey, Job<SyncJobData>[]>();
  const add = (job: Job<SyncJobData>) => {
    const list = byEntity.get(jobEntity(job)) ?? [];
    list.push(job);
    byEntity.set(jobEntity(job), list);
  };
  if ("jobId" in selection) {
    add(await requireFailed(deps.queue, selection.jobId));
  } else {
    const filter = "all" in selection ? {} : selection;
    for await (const job of iterateJobs(deps.queue, "failed")) {
      if (matchesFilter(job, filter)) add(job);
    }
  }
  const result: RetryResult = { retried: [] };
  for (const [entity, jobs] of byEntity) {
    const { kind, id } = jobs[0]!.data;
    // Add first, remove after: a crash in between leaves a duplicate, never a lost sync.
    const fresh = await deps.queue.add(kind, { kind, id }, syncJobOptions(entity));
    const replaced: string[] = [];
    for (const job of jobs) {
      await job.remove().catch(() => {}); // removed meanwhile (by the dashboard): fine
      replaced.push(String(job.id));
    }
    const lastError = jobs[0]!.failedReason;
    await deps.audit.record({
      action: "retry",
      actor: deps.actor,
      entity,
      jobId: String(fresh.id),
      detail: { replaced, lastError },
    });
    result.retried.push({
      entity,
      jobId: String(fresh.id),
      replaced,
      lastError: lastError || undefined,
    });
  }
  return result;
}

/**
 * Removes a failed job for good, keeping the reason and its last error in the audit log.
 *
 * @throws {OpsError} invalid without a reason; not_found / conflict as for retry
 */
export async function discardJob(
  deps: OpsDeps,
  jobId: string,
  reason: string,
): Promise<{ jobId: string; entity: EntityKey }> {
  if (!reason.trim()) throw new OpsError("invalid", "a reason is required to discard a job");
  const job = await requireFailed(deps.queue, jobId);
  const entity = jobEntity(job);
  await deps.audit.record({
    action: "discard",
    actor: deps.actor,
    entity,
    jobId,
    reason: reason.trim(),
    detail: { lastError: job.failedReason, attempts: job.attemptsMade },
  });
  await job.remove();
  return { jobId, entity };
}

async function requireFailed(queue: Queue<SyncJobData>, id: string): Promise<Job<SyncJobData>> {
  const job = await queue.getJob(id);
  if (!job) throw new OpsError("not_found", `no job ${id}`);
  const state = await job.getState();
  if (state !== "failed") {
    throw new OpsError("conflict", `job ${id} is ${state}, not failed`);
  }
  return job;
}

/** Stops workers taking new sync jobs; intake keeps accepting and enqueueing. */
export async function pauseProcessing(deps: OpsDeps, reason?: string): Promise<void> {
  await deps.queue.pause();
  await deps.audit.record({ action: "pause", actor: deps.actor, reason });
}

/** Lets workers take jobs again. */
export async function resumeProcessing(deps: OpsDeps): Promise<void> {
  await deps.queue.resume();
  await deps.audit.record({ action: "resume", actor: deps.actor });
}
