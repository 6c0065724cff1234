/**
 * The operator API under `/admin/api` (bearer ADMIN_TOKEN, enforced by `createApp`): jobs,
 * events and replay, pause/resume, reconcile, whois, audit and status, described by
 * `/admin/api/openapi.json`, which is generated from the zod schemas in ./admin_schemas.ts.
 *
 * Reconcile runs as a job on the workers (they hold the IONOS credentials and a listing can take
 * minutes): POST starts it, GET reads its plan.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Queue } from "bullmq";
import type { BlankEnv } from "hono/types";
import type { IngestDeps } from "../ingest.ts";
import type { Logger } from "../../log.ts";
import type { AuditLog } from "../../ops/oplog/audit_log.ts";
import { OpsError } from "../../ops/errors.ts";
import type { EventLog } from "../../ops/oplog/event_log.ts";
import type { TargetLinks } from "../../targets/links.ts";
import {
  discardJob,
  listJobs,
  pauseProcessing,
  resumeProcessing,
  retryFailed,
  type RetrySelection,
  showJob,
} from "../../ops/queues/jobs.ts";
import { replayEvents, type ReplaySelection } from "../../ops/queues/replay.ts";
import {
  type ReconcileJobData,
  type ReconcileJobResult,
  requestReconcile,
} from "../../ops/queues/scheduler.ts";
import { readStatus } from "../../ops/queues/status.ts";
import { parseTime } from "../../ops/oplog/time.ts";
import { whois } from "../../ops/whois.ts";
import type { SyncJobData } from "../../queue/sync_queue.ts";
import type { IonosRecords } from "../../targets/ionos/records.ts";
import type { WantedStateStore } from "../../store/wanted_state.ts";
import * as S from "./admin_schemas.ts";

export interface AdminOpsOptions {
  queue: Queue<SyncJobData>;
  store: WantedStateStore;
  records: IonosRecords;
  eventLog: EventLog;
  audit: AuditLog;
  reconcileQueue: Queue<ReconcileJobData>;
  /** Metrics hook for replayed events (the event log is written by replay). */
  onIngested?: IngestDeps["onIngested"];
  /** Writes for replay's enqueue transactions (the console's count). */
  alsoInTransaction?: IngestDeps["alsoInTransaction"];
  /** The twin records of the other targets the mapping lists, shown by whois. @default none */
  targets?: readonly TargetLinks[];
  logger: Logger;
}

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});
const errors = {
  400: json(S.ErrorBody, "invalid request"),
  401: json(S.ErrorBody, "missing or wrong admin token"),
  404: json(S.ErrorBody, "not found"),
  409: json(S.ErrorBody, "conflict (e.g. the job is not failed)"),
};
const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

/** Reads an optional time parameter; a bad one is a 400, not a 500. */
function time(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseTime(text);
  } catch (error) {
    throw new OpsError("invalid", (error as Error).message);
  }
}

/**
 * @example
 * createApp({ ..., adminMounts: [{ path: "/", app: adminOpsApi(options) }] });
 */
export function adminOpsApi(options: AdminOpsOptions): OpenAPIHono<BlankEnv> {
  const { queue, store, records, eventLog, audit, reconcileQueue, logger } = options;
  const app = new OpenAPIHono<BlankEnv>({
    // Validation failures answer in the intake's error shape, naming each bad field.
    defaultHook: (result, c) => {
      if (!result.success) {
        return c.json({
          error: "invalid_request",
          message: result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
            .join("; "),
        }, 400);
      }
    },
  });
  const actor = (requestId: unknown) => `admin-api${requestId ? ` (request ${requestId})` : ""}`;
  const deps = (c: { get(k: never): unknown }) => ({
    queue,
    audit,
    actor: actor(c.get("requestId" as never)),
  });

  app.onError((error, c) => {
    if (error instanceof OpsError) {
      return c.json({ error: error.code, message: error.message }, error.status);
    }
    logger.error("admin api error", { path: c.req.path, error });
    return c.json({ error: "internal", message: "internal error" }, 500);
  });

  app.openapi(
    createRoute({
      method: "get",
      path: "/status",
      summary: "Queue counts, managed entities, pause state, event log size, reconcile schedule",
      responses: { 200: json(S.Status, "status"), 401: errors[401] },
    }),
    async (c) => c.json(await readStatus(queue, records, eventLog, reconcileQueue), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/jobs",
      summary: "List sync jobs in one state, newest first",
      request: { query: S.JobListQuery },
      responses: { 200: json(z.object({ jobs: z.array(S.JobSummary) }), "jobs"), ...errors },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const jobs = await listJobs(queue, {
        state: q.state,
        limit: q.limit,
        offset: q.offset,
        entity: q.entity,
        errorContains: q.error,
      });
      return c.json({ jobs }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/jobs/retry",
      summary: "Retry failed jobs: all, or those of an entity or with matching error text",
      description: "Enqueues one fresh sync job per entity and removes its failed jobs.",
      request: body(S.RetryBody),
      responses: { 200: json(S.RetryResult, "what was retried"), ...errors },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const selection: RetrySelection = b.all ? { all: true } : {
        entity: b.entity,
        errorContains: b.error,
      };
      return c.json(await retryFailed(deps(c), selection), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/jobs/{id}",
      summary: "One job in full",
      request: { params: S.JobIdParam },
      responses: { 200: json(S.JobDetail, "the job"), ...errors },
    }),
    async (c) => c.json(await showJob(queue, c.req.valid("param").id), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/jobs/{id}/retry",
      summary: "Retry one failed job",
      request: { params: S.JobIdParam },
      responses: { 200: json(S.RetryResult, "what was retried"), ...errors },
    }),
    async (c) => c.json(await retryFailed(deps(c), { jobId: c.req.valid("param").id }), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/jobs/{id}/discard",
      summary: "Remove a failed job for good; the reason goes to the audit log",
      request: { params: S.JobIdParam, ...body(S.DiscardBody) },
      responses: { 200: json(S.DiscardResult, "discarded"), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await discardJob(deps(c), id, c.req.valid("json").reason), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/events",
      summary: "Logged events, newest first",
      request: { query: S.EventListQuery },
      responses: { 200: json(z.object({ events: z.array(S.EventEntry) }), "events"), ...errors },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const since = time(q.since);
      const until = time(q.until);
      const events = await eventLog.list({
        limit: q.limit,
        since,
        until,
        entity: q.entity,
        source: q.source,
        type: q.type,
      });
      const withPayload = q.payload === "true";
      return c.json({
        events: events.map(({ payload, ...rest }) => withPayload ? { ...rest, payload } : rest),
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/events/replay",
      summary: "Replay logged events through the normal intake path",
      description: "Replays keep their original time, so they never overwrite newer state.",
      request: body(S.ReplayBody),
      responses: { 200: json(S.ReplayResult, "what was replayed"), ...errors },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const since = time(b.since);
      const until = time(b.until);
      // `|| undefined`: the selection goes into the audit record, where an empty source was
      // left out before and still is.
      const selection: ReplaySelection = b.eventId ? { eventId: b.eventId } : {
        since,
        until,
        entity: b.entity,
        source: b.source || undefined,
      };
      const requestId = c.get("requestId" as never) as string | undefined;
      const result = await replayEvents(
        {
          store,
          eventLog,
          ...deps(c),
          onIngested: options.onIngested,
          alsoInTransaction: options.alsoInTransaction,
          requestId,
        },
        selection,
        { dryRun: b.dryRun },
      );
      return c.json(result, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/events/{id}",
      summary: "One logged event with its payload (event id or log id)",
      request: { params: S.JobIdParam },
      responses: { 200: json(S.EventEntry, "the event"), ...errors },
    }),
    async (c) => {
      const entry = await eventLog.get(c.req.valid("param").id);
      if (!entry) throw new OpsError("not_found", "no such event in the event log");
      return c.json(entry, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/queue/pause",
      summary: "Pause sync processing (intake keeps accepting)",
      request: { body: { content: { "application/json": { schema: S.PauseBody } } } },
      responses: { 200: json(S.QueueState, "paused"), ...errors },
    }),
    async (c) => {
      const b = await c.req.json().catch(() => ({})) as { reason?: string };
      await pauseProcessing(deps(c), typeof b.reason === "string" ? b.reason : undefined);
      return c.json({ paused: true }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/queue/resume",
      summary: "Resume sync processing",
      responses: { 200: json(S.QueueState, "resumed"), ...errors },
    }),
    async (c) => {
      await resumeProcessing(deps(c));
      return c.json({ paused: false }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/reconcile",
      summary: "Start a reconcile run on the workers",
      description: "report: compute the plan only; fix: also enqueue it, on the target's own " +
        "queue. Poll the status URL.",
      request: { body: { content: { "application/json": { schema: S.ReconcileBody } } } },
      responses: { 202: json(S.ReconcileAccepted, "started"), ...errors },
    }),
    async (c) => {
      const raw = await c.req.json().catch(() => ({}));
      const parsed = S.ReconcileBody.safeParse(raw);
      if (!parsed.success) {
        throw new OpsError("invalid", "mode must be report or fix; target one of the targets");
      }
      const { mode, target } = parsed.data;
      if (target !== "ionos" && !(options.targets ?? []).some((t) => t.target === target)) {
        throw new OpsError("invalid", `${target} is not in the mapping's targets`);
      }
      const jobId = await requestReconcile(reconcileQueue, {
        mode,
        requestedBy: actor(c.get("requestId" as never)),
        // IONOS's job data stays as it was: no target means IONOS.
        ...(target === "ionos" ? {} : { target }),
      });
      return c.json({ jobId, status: `/admin/api/reconcile/${jobId}` }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/reconcile/{id}",
      summary: "A reconcile run: its state and, when done, its plan",
      request: { params: S.JobIdParam },
      responses: { 200: json(S.ReconcileRun, "the run"), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      // State first: a job read after it shows "completed" has its result (read the other way
      // round, a run finishing in between answered "completed" with no result).
      const state = await reconcileQueue.getJobState(id);
      const job = await reconcileQueue.getJob(id);
      if (!job || state === "unknown") throw new OpsError("not_found", `no reconcile run ${id}`);
      const result = job.returnvalue as ReconcileJobResult | null;
      return c.json({
        jobId: id,
        state,
        failedReason: job.failedReason || undefined,
        result: result ?? undefined,
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/whois/{query}",
      summary: "Everything about one user or group: email, IdP id, user:<id> or IONOS id",
      request: { params: z.object({ query: z.string().min(1) }) },
      responses: { 200: json(S.WhoisReport, "the report"), ...errors },
    }),
    async (c) => {
      const report = await whois(
        { store, records, queue, eventLog, audit, targets: options.targets ?? [] },
        c.req.valid("param").query,
      );
      return c.json(report as unknown as z.infer<typeof S.WhoisReport>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/audit",
      summary: "Operator actions, newest first",
      request: {
        query: z.object({
          entity: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(50),
        }),
      },
      responses: { 200: json(z.object({ entries: z.array(S.AuditEntry) }), "entries"), ...errors },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const entries = await audit.list({
        limit: q.limit,
        entity: q.entity,
      });
      return c.json({ entries }, 200);
    },
  );

  // Documented here, served by ./admin_stats.ts.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/stats",
    summary: "Queue counts and managed entity counts (for scripts waiting on a drain)",
    responses: { 200: { description: "stats" }, 401: errors[401] },
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "ADMIN_TOKEN",
  });
  app.doc("/openapi.json", {
    openapi: "3.0.3",
    info: {
      title: "ionos-idp-sync admin API",
      version: "1",
      description: "Operate the sync: jobs, event log and replay, reconcile, pause/resume.",
    },
    servers: [{ url: "/admin/api" }],
    security: [{ adminToken: [] }],
  });
  return app;
}
