/**
 * The admin API's request and response shapes, as zod schemas: they validate requests and are
 * the source of `/admin/api/openapi.json`.
 */
import { z } from "@hono/zod-openapi";
import { PLAN_ACTIONS } from "../../ops/reconcile/plan.ts";
import { TARGET_PLAN_ACTIONS } from "../../ops/reconcile/target_plan.ts";
import { TARGET_NAMES } from "../../targets/target.ts";
import { JOB_STATES } from "../../ops/queues/jobs.ts";

export const ErrorBody = z.object({
  error: z.string().openapi({ example: "not_found" }),
  message: z.string(),
}).openapi("Error");

const Entity = z.string().regex(/^(user|group):.+/).openapi({ example: "user:00u1" });
const Time = z.string().openapi({
  description: "ISO time (2026-11-21T10:00:00Z) or an age before now (30m, 2h, 7d)",
  example: "2h",
});

export const JobSummary = z.object({
  id: z.string(),
  entity: z.string(),
  state: z.string(),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  lastError: z.string().optional().openapi({
    example: "IONOS 503 on GET /um/users/{id}: service unavailable",
  }),
  result: z.string().optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  runAt: z.string().optional(),
}).openapi("JobSummary");

export const JobDetail = JobSummary.extend({
  data: z.object({ kind: z.enum(["user", "group"]), id: z.string() }),
  options: z.object({
    attempts: z.number().optional(),
    backoff: z.unknown().optional(),
    deduplicationId: z.string().optional(),
  }),
  returnValue: z.unknown().optional(),
  stacktrace: z.array(z.string()),
  logs: z.array(z.string()),
}).openapi("JobDetail");

export const JobListQuery = z.object({
  state: z.enum(JOB_STATES).default("failed"),
  entity: Entity.optional(),
  error: z.string().optional().openapi({ description: "text the last error contains" }),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const JobIdParam = z.object({ id: z.string().min(1).openapi({ example: "42" }) });

export const RetryBody = z.object({
  all: z.boolean().optional().openapi({ description: "retry every failed job" }),
  entity: Entity.optional(),
  error: z.string().min(1).optional().openapi({ example: "IONOS 503" }),
}).refine((b) => b.all || b.entity || b.error, {
  message: "give all: true, an entity or error text",
}).openapi("RetryRequest");

export const RetryResult = z.object({
  retried: z.array(z.object({
    entity: z.string(),
    jobId: z.string(),
    replaced: z.array(z.string()),
    lastError: z.string().optional(),
  })),
}).openapi("RetryResult");

export const DiscardBody = z.object({
  reason: z.string().trim().min(1).max(1000).openapi({ example: "user left; nothing to sync" }),
}).openapi("DiscardRequest");

export const DiscardResult = z.object({ jobId: z.string(), entity: z.string() });

export const EventEntry = z.object({
  logId: z.string(),
  eventId: z.string(),
  source: z.string(),
  type: z.string(),
  entity: z.string(),
  time: z.string(),
  timeFromEvent: z.boolean(),
  receivedAt: z.string(),
  requestId: z.string().optional(),
  entities: z.array(z.string()),
  jobs: z.record(z.string(), z.string()),
  replayOf: z.string().optional(),
  payload: z.unknown().optional(),
}).openapi("EventLogEntry");

export const EventListQuery = z.object({
  since: Time.optional(),
  until: Time.optional(),
  entity: Entity.optional(),
  source: z.string().optional(),
  type: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  payload: z.enum(["true", "false"]).default("false").openapi({
    description: "include each event's payload",
  }),
});

export const ReplayBody = z.object({
  eventId: z.string().optional().openapi({ description: "one event (event id or log id)" }),
  since: Time.optional(),
  until: Time.optional(),
  entity: Entity.optional(),
  source: z.string().optional(),
  dryRun: z.boolean().default(false),
}).refine((b) => b.eventId || b.since || b.until || b.entity, {
  message: "give eventId, a time range (since/until) or an entity",
}).openapi("ReplayRequest");

export const ReplayResult = z.object({
  dryRun: z.boolean(),
  selected: z.number().int(),
  accepted: z.number().int(),
  entities: z.array(z.string()),
  replays: z.array(z.object({
    eventId: z.string(),
    replayId: z.string(),
    entity: z.string(),
    time: z.string(),
  })),
  skipped: z.array(z.object({ eventId: z.string(), reason: z.string() })),
}).openapi("ReplayResult");

export const PauseBody = z.object({ reason: z.string().max(1000).optional() }).openapi(
  "PauseRequest",
);

export const QueueState = z.object({ paused: z.boolean() }).openapi("QueueState");

export const ReconcileBody = z.object({
  mode: z.enum(["report", "fix"]).default("report").openapi({
    description: "report: plan only (dry run); fix: enqueue the plan",
  }),
  target: z.enum(TARGET_NAMES).default("ionos").openapi({
    description: "the cloud to compare with; one the mapping's targets lists",
  }),
}).openapi("ReconcileRequest");

export const ReconcileAccepted = z.object({
  jobId: z.string(),
  status: z.string().openapi({ example: "/admin/api/reconcile/7" }),
});

const PlanItem = z.object({
  /** Absent only for an `unmanaged` account of another target: no job ever touches it. */
  entity: z.string().optional(),
  action: z.enum([...new Set([...PLAN_ACTIONS, ...TARGET_PLAN_ACTIONS])]),
  label: z.string(),
  detail: z.string(),
  ionosId: z.string().optional(),
  targetId: z.string().optional(),
});

export const ReconcileRun = z.object({
  jobId: z.string(),
  state: z.string(),
  failedReason: z.string().optional(),
  result: z.object({
    /** Absent for IONOS. */
    target: z.enum(TARGET_NAMES).optional(),
    dryRun: z.boolean(),
    counts: z.record(z.string(), z.number()),
    items: z.array(PlanItem),
    itemsTruncated: z.boolean(),
    entities: z.array(z.string()),
    enqueuedCount: z.number().int(),
    scanned: z.record(z.string(), z.number()),
    startedAt: z.string(),
    finishedAt: z.string(),
  }).optional(),
}).openapi("ReconcileRun");

export const AuditEntry = z.object({
  logId: z.string(),
  at: z.string(),
  action: z.string(),
  actor: z.string(),
  entity: z.string().optional(),
  jobId: z.string().optional(),
  reason: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
}).openapi("AuditEntry");

export const WhoisReport = z.object({
  query: z.string(),
  entity: z.string(),
  wanted: z.record(z.string(), z.unknown()).optional(),
  groups: z.array(
    z.object({ id: z.string(), name: z.string().optional(), deleted: z.boolean().optional() }),
  ).optional(),
  memberCount: z.number().int().optional(),
  twin: z.record(z.string(), z.string()).optional(),
  ionos: z.record(z.string(), z.unknown()).optional(),
  shares: z.object({
    set: z.array(z.object({
      resource: z.string(),
      origin: z.enum(["created", "taken over"]),
      edit: z.boolean().optional(),
      share: z.boolean().optional(),
    })),
    ionos: z.unknown().optional(),
  }).optional().openapi({
    description: "Groups: resource shares the sync set (and, read live, those IONOS has)",
  }),
  s3Keys: z.object({
    turnedOff: z.array(z.string()),
    ionos: z.unknown().optional(),
  }).optional().openapi({
    description: "Users: S3 key ids the sync turned off (and, read live, the keys; no secrets)",
  }),
  targets: z.record(z.string(), z.record(z.string(), z.string())).optional().openapi({
    description: "The twin record in each other target the mapping lists (contabo, cloudflare)",
  }),
  events: z.array(EventEntry),
  jobs: z.array(JobSummary),
  audit: z.array(AuditEntry),
}).openapi("WhoisReport");

export const Status = z.object({
  jobs: z.record(z.string(), z.number()),
  managed: z.object({ users: z.number(), groups: z.number() }),
  queuePaused: z.boolean(),
  eventLog: z.object({ entries: z.number().int() }),
  reconcile: z.object({
    scheduled: z.boolean(),
    everyMinutes: z.number().optional(),
    mode: z.string().optional(),
    next: z.string().optional(),
  }),
}).openapi("Status");
