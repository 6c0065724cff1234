/** `jobs list|show|retry|discard`: look at sync jobs and deal with failed ones. */
import {
  discardJob,
  JOB_STATES,
  type JobSummary,
  listJobs,
  retryFailed,
  type RetrySelection,
  showJob,
} from "../../ops/queues/jobs.ts";
import { type Command, oneOf, positiveInt, str, UsageError } from "../command.ts";
import { EXIT, formatFields, formatTable } from "../output.ts";

const ENTITY_HELP = "only jobs for this entity (user:<id> or group:<id>)";

export const jobsList: Command = {
  name: "jobs list",
  summary: "List sync jobs in one state, newest first.",
  options: {
    state: { type: "string", arg: "STATE", help: `${JOB_STATES.join("|")} (default: failed)` },
    entity: { type: "string", arg: "ENTITY", help: ENTITY_HELP },
    error: { type: "string", arg: "TEXT", help: "only jobs whose last error contains TEXT" },
    limit: { type: "string", arg: "N", help: "at most N jobs (default: 50)" },
  },
  details: `examples:
  cli jobs list                       # failed jobs
  cli jobs list --state waiting --json
  cli jobs list --error "IONOS 503"`,
  async run(ctx, v, _p, out) {
    const jobs = await listJobs(ctx.queue, {
      state: oneOf(v.state, JOB_STATES, "state", "failed"),
      limit: positiveInt(v.limit, "limit", 50),
      entity: str(v.entity),
      errorContains: str(v.error),
    });
    out.result(jobs, () =>
      jobs.length === 0 ? "no jobs\n" : formatTable<JobSummary>(jobs, [
        { header: "ID", value: (j) => j.id },
        { header: "ENTITY", value: (j) => j.entity, max: 40 },
        { header: "ATTEMPTS", value: (j) => `${j.attempts}/${j.maxAttempts}` },
        { header: "CREATED", value: (j) => j.createdAt },
        { header: "FINISHED", value: (j) => j.finishedAt ?? j.runAt },
        { header: "LAST ERROR / RESULT", value: (j) => j.lastError ?? j.result, max: 80 },
      ]));
    return EXIT.ok;
  },
};

export const jobsShow: Command = {
  name: "jobs show",
  summary: "Show one job in full: state, attempts, last error, stack, logs.",
  args: "<job-id>",
  positionals: [1, 1],
  async run(ctx, _v, [id], out) {
    const job = await showJob(ctx.queue, id!);
    out.result(job, () => formatFields({ ...job, stacktrace: undefined }) + stack(job.stacktrace));
    return EXIT.ok;
  },
};

const stack = (lines: string[]) =>
  lines.length ? `stacktrace (last):\n  ${lines.at(-1)!.split("\n").join("\n  ")}\n` : "";

export const jobsRetry: Command = {
  name: "jobs retry",
  summary: "Retry failed jobs: one by id, all, or those matching an entity or error text.",
  args: "[job-id]",
  positionals: [0, 1],
  options: {
    all: { type: "boolean", help: "retry every failed job" },
    entity: { type: "string", arg: "ENTITY", help: ENTITY_HELP },
    error: { type: "string", arg: "TEXT", help: "only failed jobs whose last error contains TEXT" },
  },
  details: `Each entity gets one fresh sync job (it reads the newest wanted state), and its failed
jobs are removed; the audit log keeps their ids and last error.

examples:
  cli jobs retry 42
  cli jobs retry --all
  cli jobs retry --error "IONOS 503"`,
  async run(ctx, v, [id], out) {
    const filters = [id !== undefined, v.all === true, !!str(v.entity) || !!str(v.error)];
    if (filters.filter(Boolean).length !== 1) {
      throw new UsageError("give a job id, --all, or --entity/--error (one of them)");
    }
    const selection: RetrySelection = id !== undefined ? { jobId: id } : v.all ? { all: true } : {
      entity: str(v.entity),
      errorContains: str(v.error),
    };
    const result = await retryFailed(ctx, selection);
    out.result(
      result,
      () =>
        result.retried.length === 0 ? "no failed jobs matched\n" : formatTable(result.retried, [
          { header: "ENTITY", value: (r) => r.entity, max: 40 },
          { header: "NEW JOB", value: (r) => r.jobId },
          { header: "REPLACED", value: (r) => r.replaced.join(",") },
          { header: "LAST ERROR", value: (r) => r.lastError, max: 80 },
        ]) + `retried ${result.retried.length} entit${result.retried.length === 1 ? "y" : "ies"}\n`,
    );
    return EXIT.ok;
  },
};

export const jobsDiscard: Command = {
  name: "jobs discard",
  summary: "Remove a failed job for good; the reason is kept in the audit log.",
  args: "<job-id>",
  positionals: [1, 1],
  options: { reason: { type: "string", arg: "TEXT", help: "why (required)" } },
  details: `example:
  cli jobs discard 42 --reason "user left before the account was created"`,
  async run(ctx, v, [id], out) {
    const reason = str(v.reason);
    if (!reason?.trim()) throw new UsageError("--reason is required");
    const result = await discardJob(ctx, id!, reason);
    out.result(result, () => `discarded job ${result.jobId} (${result.entity})\n`);
    return EXIT.ok;
  },
};
