/**
 * Step jobs: a sync job gives its worker slot back while IONOS runs its writes, and resumes
 * where it stood. BullMQ's pattern for this is `job.updateData()` with the step reached, then
 * `job.moveToDelayed(timestamp, token)` and `throw new DelayedError()`: the job leaves the active
 * list without using up an attempt and comes back when the delay ends
 * (https://docs.bullmq.io/patterns/process-step-jobs).
 *
 * A step (sync_user.ts, sync_group.ts) runs with a client view that answers writes at 202 and
 * records their requests (`ctx.writes`). Then:
 * - where a later write needs an earlier one DONE (a reduction before the rest: "removal wins",
 *   docs/security.md; a create before the members), the step calls {@linkcode settleWrites}: the
 *   job waits and runs the step again once they are DONE. The step plans from IONOS and Redis
 *   anew, so the writes that landed are no-ops and it goes on from there;
 * - at its end, the job waits for all its writes, then finishes with the step's result, unless
 *   the wanted state changed meanwhile (./wanted_fingerprint.ts) or a request FAILED: then it
 *   runs the step again, which sends what is still missing.
 *
 * The pending request ids live in the job's data (and a create's in its twin record), so a
 * worker that stops or crashes mid-wait loses nothing: whoever runs the job next checks those
 * requests first. Checking costs no call of its own: the process's request tracker learns every
 * request's state from one listing per interval. Wait, go on or fail is decided in
 * `failure_policy.ts`.
 */
import { DelayedError, type Job } from "bullmq";
import { IonosRequestFailedError } from "../src/targets/ionos/errors.ts";
import { type PendingRequest, PendingWrites } from "../src/targets/ionos/pending_writes.ts";
import {
  type AfterDone,
  enqueueSync,
  type InterruptedUpdate,
  type SyncJobData,
  type WaitingStep,
} from "../src/queue/sync_queue.ts";
import type { IonosTwin } from "../src/targets/ionos/records.ts";
import type { SyncContext, SyncOutcome } from "./context.ts";
import { AwaitingRequestsError, SyncConflictError } from "./errors.ts";
import { classifyFailure, decideOnRequests, stepRoundsExceeded } from "./failure_policy.ts";
import { wantedFingerprint } from "./wanted_fingerprint.ts";

/** One sync step: syncUser or syncGroup. */
export type SyncStep = (ctx: SyncContext, id: string) => Promise<SyncOutcome>;

export interface StepJobOptions {
  /**
   * How long a waiting job stays delayed before it looks again. It is promoted sooner when this
   * process learns that its requests ended; the delay covers a job another process delayed.
   * @default 2000
   */
  recheckMs?: number | undefined;
}

/**
 * In a step: stop here until every write this run sent is DONE; the job then runs the step
 * again with its slot given back meanwhile (`rest`: the part of the plan that run sends first). Without `ctx.writes` (no worker), writes have
 * already waited in the call and this does nothing.
 * @throws {AwaitingRequestsError} when writes are pending.
 */
export function settleWrites(ctx: SyncContext, why: string, rest?: InterruptedUpdate): void {
  if (ctx.writes && ctx.writes.size > 0) {
    throw new AwaitingRequestsError(ctx.writes.requests, why, rest);
  }
}

/**
 * In a step: the outcome of a request an earlier run recorded (a create sent without waiting,
 * kept in the twin record so that a crash cannot lose it). Waits in the call when no worker runs
 * the step.
 * @throws {AwaitingRequestsError} when a worker runs the step and the outcome is not known yet.
 */
export async function recordedRequestOutcome(
  ctx: SyncContext,
  request: PendingRequest,
): Promise<"DONE" | "FAILED"> {
  const known = ctx.settledRequests?.get(request.id);
  if (known) return known;
  if (ctx.writes) throw new AwaitingRequestsError([request], `${request.what} of an earlier run`);
  try {
    await ctx.ionos.waitForRequest(request.id, request.serverDate);
    return "DONE";
  } catch (error) {
    if (error instanceof IonosRequestFailedError) return "FAILED";
    throw error;
  }
}

/**
 * In a step: whether our own create of `twin` is known to have landed, so the twin is no longer
 * "creating": its request was seen DONE, or a write of an earlier run of this job to it was (IONOS
 * refuses writes on a resource whose create is not DONE, see ./own_create.ts).
 * @throws {AwaitingRequestsError} when a worker runs the step and the create's outcome is not
 *   known yet.
 */
export async function ownCreateConfirmed(
  ctx: SyncContext,
  kind: "user" | "group",
  twin: IonosTwin | undefined,
): Promise<boolean> {
  if (twin?.state !== "creating" || !twin.ionosId) return false;
  if (ctx.doneWrites?.has(twin.ionosId)) return true;
  return await ownCreateOutcome(ctx, kind, twin) === "DONE";
}

/**
 * In a step: the outcome of our own create that an earlier run sent without waiting (the twin is
 * "creating" with an IONOS id and the request), or `undefined` when there is none.
 * @throws {AwaitingRequestsError} when a worker runs the step and the outcome is not known yet.
 */
export async function ownCreateOutcome(
  ctx: SyncContext,
  kind: "user" | "group",
  twin: IonosTwin | undefined,
): Promise<"DONE" | "FAILED" | undefined> {
  if (!twin?.request || !twin.ionosId || twin.state !== "creating") return undefined;
  return await recordedRequestOutcome(ctx, {
    id: twin.request,
    what: kind === "user" ? "POST /um/users" : "POST /um/groups",
    serverDate: twin.requestDate || undefined,
  });
}

/**
 * Runs `step` for the job's entity as a step job (see the module comment).
 *
 * @param token The worker's lock token of this job, for `moveToDelayed`.
 * @throws {DelayedError} when the job waits for requests (BullMQ's signal, not a failure).
 */
export async function runStepJob(
  ctx: SyncContext,
  job: Job<SyncJobData>,
  token: string | undefined,
  step: SyncStep,
  options: StepJobOptions = {},
): Promise<SyncOutcome> {
  const { recheckMs = 2000 } = options;
  const { kind, id, waiting } = job.data;
  const settled = new Map<string, "DONE" | "FAILED">();
  const doneWrites = new Set<string>();
  let failedRounds = waiting?.failedRounds ?? 0;
  if (waiting) {
    const checks = waiting.requests.map((request) => ({
      request,
      check: ctx.ionos.checkRequest(request),
    }));
    const decision = decideOnRequests(checks, failedRounds);
    if (decision.next === "wait") return await giveSlotBack(ctx, job, token, waiting, recheckMs);
    ctx.ionos.forgetRequests(waiting.requests);
    if (decision.next === "fail") {
      // The next attempt plans from scratch (its backoff also gives IONOS time).
      await job.updateData({ kind, id });
      throw decision.error;
    }
    if (decision.failed.length > 0) {
      failedRounds++;
      ctx.logger.warn("ionos requests FAILED; planning again", {
        failed: decision.failed.map((r) => r.what),
        round: failedRounds,
      });
    }
    for (const { request, check } of checks) {
      settled.set(request.id, check.state === "DONE" ? "DONE" : "FAILED");
      if (check.state === "DONE" && request.target) doneWrites.add(request.target);
    }
    if (
      waiting.then === "finish" && waiting.outcome && decision.failed.length === 0 &&
      waiting.fingerprint === await wantedFingerprint(ctx, kind, id)
    ) {
      await applyAfterDone(ctx, waiting.afterDone);
      return waiting.outcome;
    }
  }

  const fingerprint = await wantedFingerprint(ctx, kind, id);
  const writes = new PendingWrites();
  const stepCtx: SyncContext = {
    ...ctx,
    ionos: ctx.ionos.deferring(writes),
    writes,
    settledRequests: settled,
    doneWrites,
    ...(waiting?.then === "rerun" && waiting.interrupted
      ? { interrupted: waiting.interrupted }
      : {}),
  };
  let outcome: SyncOutcome;
  try {
    outcome = await step(stepCtx, id);
  } catch (thrown) {
    let error = thrown;
    if (error instanceof AwaitingRequestsError && classifyFailure(error) === "wait") {
      const rounds = (waiting?.rounds ?? 0) + 1;
      const tooMany = stepRoundsExceeded(rounds, `${kind}:${id}`);
      if (!tooMany) {
        return await giveSlotBack(ctx, job, token, {
          requests: error.requests,
          then: "rerun",
          failedRounds,
          rounds,
          interrupted: error.interrupted,
        }, recheckMs);
      }
      error = tooMany;
      await job.updateData({ kind, id });
    }
    // A failing step's writes are watched to their end before the failure goes up (the slot is
    // held: failures are rare), so the retry never plans while they still run.
    await ctx.ionos.requestsSettled(writes.requests).catch(() => {});
    // A conflict after the rest was applied still owes what a finished step would have done
    // once its writes are DONE (errors.ts); with one of them not DONE the next run decides.
    if (
      error instanceof SyncConflictError && error.afterDone &&
      writes.requests.every((r) => ctx.ionos.checkRequest(r).state === "DONE")
    ) await applyAfterDone(ctx, error.afterDone);
    ctx.ionos.forgetRequests(writes.requests);
    throw error;
  }
  const { afterDone, ...shown } = outcome;
  if (writes.size === 0) {
    await applyAfterDone(ctx, afterDone);
    return shown;
  }
  return await giveSlotBack(ctx, job, token, {
    requests: writes.requests,
    then: "finish",
    outcome: shown,
    afterDone,
    fingerprint,
    failedRounds,
  }, recheckMs);
}

/** Records where the job stands, moves it to the delayed set and leaves the slot. */
async function giveSlotBack(
  ctx: SyncContext,
  job: Job<SyncJobData>,
  token: string | undefined,
  waiting: WaitingStep,
  recheckMs: number,
): Promise<never> {
  await job.updateData({ kind: job.data.kind, id: job.data.id, waiting });
  await job.moveToDelayed(Date.now() + recheckMs, token);
  // Watch them here (a job resumed after a crash had no watch yet), and come back as soon as
  // this process knows they ended rather than when the delay is over.
  for (const r of waiting.requests) ctx.ionos.checkRequest(r);
  void ctx.ionos.requestsSettled(waiting.requests)
    .then(() => job.promote())
    .catch(() => {}); // no longer delayed (promoted by another process, or removed)
  throw new DelayedError();
}

async function applyAfterDone(ctx: SyncContext, after: AfterDone | undefined): Promise<void> {
  if (after?.record) await ctx.records.set(after.record.kind, after.record.id, after.record.patch);
  if (after?.enqueue?.length) await enqueueSync(ctx.queue, after.enqueue);
}
