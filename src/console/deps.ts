/** What the console pages read from and act on: the same parts the admin API uses. */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../log.ts";
import type { AuditLog } from "../ops/oplog/audit_log.ts";
import type { EventLog } from "../ops/oplog/event_log.ts";
import type { IonosHealthReport } from "../metrics/ionos_health.ts";
import type { OpsDeps } from "../ops/queues/jobs.ts";
import type { ReconcileJobData } from "../ops/queues/scheduler.ts";
import type { SyncJobData } from "../queue/sync_queue.ts";
import type { IonosRecords } from "../targets/ionos/records.ts";
import type { TargetLinks } from "../targets/links.ts";
import type { WantedStateStore } from "../store/wanted_state.ts";
import type { ConsoleSession } from "./session.ts";

export interface ConsoleDeps {
  redis: Redis;
  /** Redis key prefix (REDIS_PREFIX). */
  prefix: string;
  queue: Queue<SyncJobData>;
  store: WantedStateStore;
  records: IonosRecords;
  eventLog: EventLog;
  audit: AuditLog;
  reconcileQueue: Queue<ReconcileJobData>;
  /** IONOS health as this process sees it; undefined where it makes no IONOS calls (role api). */
  ionosHealth?: () => IonosHealthReport;
  /** ADMIN_DASHBOARD_READONLY: no button that changes anything, and such posts are refused. */
  readOnly: boolean;
  /** The twin records of the other targets the mapping lists, shown on an account's page. */
  targets?: readonly TargetLinks[];
  logger: Logger;
}

/** Deps for src/ops/queues/jobs.ts, naming the console session as the actor in the audit log. */
export function opsDeps(deps: ConsoleDeps, session: ConsoleSession): OpsDeps {
  return { queue: deps.queue, audit: deps.audit, actor: consoleActor(session) };
}

/** "console (session abcd1234)": which sign-in did it, without the session id itself. */
export function consoleActor(session: ConsoleSession): string {
  return `console (session ${session.handle.slice(0, 8)})`;
}
