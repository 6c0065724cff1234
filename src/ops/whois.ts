/**
 * "What happened to alice@example.com's account?": one answer that gathers the wanted state,
 * the IONOS twin record (and, when a client is given, the live IONOS user), the entity's recent
 * events from the event log, its sync jobs and operator actions.
 */
import type { Queue } from "bullmq";
import type { IonosClient } from "../targets/ionos/client.ts";
import type { IonosUserProperties } from "../targets/ionos/types.ts";
import type { SyncJobData } from "../queue/sync_queue.ts";
import type { IonosRecords, IonosTwin } from "../targets/ionos/records.ts";
import type { TargetLink, TargetLinks } from "../targets/links.ts";
import {
  type EntityKey,
  parseEntityKey,
  type WantedGroup,
  type WantedStateStore,
  type WantedUser,
} from "../store/wanted_state.ts";
import type { AuditEntry, AuditLog } from "./oplog/audit_log.ts";
import { OpsError } from "./errors.ts";
import type { EventLog, EventLogEntry } from "./oplog/event_log.ts";
import { iterateJobs, jobEntity, type JobSummary, summarizeJob } from "./queues/jobs.ts";
import { parseRecordedKeys, parseRecordedShares } from "../targets/ionos/access_decisions.ts";

export interface WhoisDeps {
  store: WantedStateStore;
  records: IonosRecords;
  queue: Queue<SyncJobData>;
  eventLog: EventLog;
  audit: AuditLog;
  /** When given, the live IONOS user is looked up too. */
  ionos?: IonosClient;
  /** The twin records of the other targets the mapping lists (issue 11). */
  targets?: readonly TargetLinks[];
}

/** An event log entry without its payload. */
export type EventSummary = Omit<EventLogEntry, "payload">;

export interface WhoisReport {
  query: string;
  entity: EntityKey;
  wanted?: WantedUser | WantedGroup;
  /** Users: the IdP groups they are a member of now. Groups: the member count. */
  groups?: { id: string; name?: string; deleted?: boolean }[];
  memberCount?: number;
  twin?: IonosTwin;
  /** Each other target's twin record, by target name, where there is one. */
  targets?: Record<string, TargetLink>;
  /** The live IONOS user (users only, when a client was given). */
  ionos?: { id: string; properties: IonosUserProperties } | { missing: true } | {
    error: string;
  };
  /** Groups: the resource shares the service set, and (with a client) those IONOS has now. */
  shares?: {
    set: { resource: string; origin: "created" | "taken over"; edit?: boolean; share?: boolean }[];
    ionos?: { resource: string; edit: boolean; share: boolean; setBySync: boolean }[] | {
      error: string;
    };
  };
  /** Users: the S3 keys the service turned off, and (with a client) the keys IONOS has now. */
  s3Keys?: {
    turnedOff: string[];
    ionos?: { id: string; active: boolean; turnedOffBySync: boolean }[] | { error: string };
  };
  events: EventSummary[];
  jobs: JobSummary[];
  audit: AuditEntry[];
}

/**
 * Finds the entity for an email, IdP id, `user:<id>`/`group:<id>` or IONOS id, and reports it.
 *
 * @throws {OpsError} not_found when nothing matches
 * @example
 * const report = await whois(deps, "alice@example.com");
 */
export async function whois(deps: WhoisDeps, query: string): Promise<WhoisReport> {
  const entity = await resolve(deps, query.trim());
  if (!entity) throw new OpsError("not_found", `no user or group matches "${query}"`);
  const { kind, id } = parseEntityKey(entity);
  const isUser = kind === "user";
  const [wanted, twin, entries, audit] = await Promise.all([
    isUser ? deps.store.getUser(id) : deps.store.getGroup(id),
    deps.records.get(kind, id),
    deps.eventLog.list({ entity, limit: 20 }),
    deps.audit.list({ entity, limit: 20 }),
  ]);
  const report: WhoisReport = {
    query,
    entity,
    events: entries.map(({ payload: _p, ...rest }) => rest),
    jobs: await jobsFor(deps.queue, entity, entries),
    audit,
  };
  if (wanted) report.wanted = wanted;
  if (twin) report.twin = twin;
  for (const links of deps.targets ?? []) {
    const link = await links.get(kind, id);
    if (Object.keys(link).length) (report.targets ??= {})[links.target] = link;
  }
  if (isUser) {
    const gids = await deps.store.getUserGroups(id);
    const groups = await deps.store.getGroups(gids);
    report.groups = gids.map((gid) => {
      const g = groups.get(gid);
      return { id: gid, ...(g ? { name: g.displayName, deleted: g.deleted } : {}) };
    });
    if (deps.ionos && twin?.ionosId) {
      try {
        const u = await deps.ionos.getUser(twin.ionosId);
        report.ionos = u ? { id: u.id, properties: u.properties } : { missing: true };
      } catch (error) {
        report.ionos = { error: (error as Error).message };
      }
    }
    report.s3Keys = await keyReport(deps, twin);
  } else {
    report.memberCount = (await deps.store.getMembers(id)).length;
    report.shares = await shareReport(deps, twin);
  }
  return report;
}

/** The shares the twin record says the service set, with IONOS's view when a client is given. */
async function shareReport(
  deps: WhoisDeps,
  twin: IonosTwin | undefined,
): Promise<NonNullable<WhoisReport["shares"]>> {
  const recorded = parseRecordedShares(twin?.managedShares);
  const out: NonNullable<WhoisReport["shares"]> = {
    set: [...recorded].map(([resource, origin]) =>
      origin === "created"
        ? { resource, origin: "created" as const }
        : { resource, origin: "taken over" as const, edit: origin.edit, share: origin.share }
    ),
  };
  if (deps.ionos && twin?.ionosId) {
    try {
      out.ionos = (await deps.ionos.listGroupShares(twin.ionosId)).map((s) => ({
        resource: s.id,
        edit: s.properties.editPrivilege,
        share: s.properties.sharePrivilege,
        setBySync: recorded.has(s.id.toLowerCase()),
      }));
    } catch (error) {
      out.ionos = { error: (error as Error).message };
    }
  }
  return out;
}

/** The S3 keys the service turned off, with IONOS's view (no secrets) when a client is given. */
async function keyReport(
  deps: WhoisDeps,
  twin: IonosTwin | undefined,
): Promise<NonNullable<WhoisReport["s3Keys"]>> {
  const turnedOff = parseRecordedKeys(twin?.s3KeysOff);
  const out: NonNullable<WhoisReport["s3Keys"]> = { turnedOff };
  if (deps.ionos && twin?.ionosId) {
    try {
      out.ionos = (await deps.ionos.listS3Keys(twin.ionosId)).map((k) => ({
        id: k.id,
        active: k.active,
        turnedOffBySync: turnedOff.includes(k.id),
      }));
    } catch (error) {
      out.ionos = { error: (error as Error).message };
    }
  }
  return out;
}

async function resolve(deps: WhoisDeps, query: string): Promise<EntityKey | undefined> {
  if (/^(user|group):./.test(query)) return query as EntityKey;
  if (query.includes("@")) {
    const wanted = query.toLowerCase();
    const ids = await deps.store.listUserIds();
    for (let i = 0; i < ids.length; i += 500) {
      const users = await Promise.all(ids.slice(i, i + 500).map((id) => deps.store.getUser(id)));
      const hit = users.find((u) => u?.email?.toLowerCase() === wanted);
      if (hit) return `user:${hit.id}`;
    }
    return undefined;
  }
  if (await deps.store.getUser(query)) return `user:${query}`;
  if (await deps.store.getGroup(query)) return `group:${query}`;
  // An IONOS id, as shown in the IONOS console.
  const [user, group] = await Promise.all([
    deps.records.ownerOf("user", query),
    deps.records.ownerOf("group", query),
  ]);
  if (user !== undefined) return `user:${user}`;
  if (group !== undefined) return `group:${group}`;
  return undefined;
}

/** Jobs named by the entity's events, its queued job, and its failed jobs; newest first. */
async function jobsFor(
  queue: Queue<SyncJobData>,
  entity: EntityKey,
  entries: EventLogEntry[],
): Promise<JobSummary[]> {
  const ids = new Set<string>();
  for (const e of entries) for (const id of Object.values(e.jobs)) ids.add(id);
  const queued = await queue.getDeduplicationJobId(entity);
  if (queued) ids.add(queued);
  const found = new Map<string, JobSummary>();
  await Promise.all([...ids].map(async (id) => {
    const job = await queue.getJob(id);
    // Job ids are reused by nobody, but check: the event log may outlive the job.
    if (job && jobEntity(job) === entity) {
      found.set(id, summarizeJob(job, await job.getState()));
    }
  }));
  let scanned = 0;
  for await (const job of iterateJobs(queue, "failed")) {
    if (jobEntity(job) === entity) found.set(String(job.id), summarizeJob(job, "failed"));
    if (++scanned >= 5000) break; // a huge failed set: the newest are enough
  }
  return [...found.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
