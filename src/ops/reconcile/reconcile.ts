/**
 * Drift detection and repair: read both sides, compute the plan, and (unless it is a dry run)
 * enqueue one sync job per affected entity. The workers compute and make the actual changes,
 * exactly as for an IdP event, so a fix is as idempotent as any sync.
 */
import type { Queue } from "bullmq";
import type { Mapping } from "../../config/mapping.ts";
import type { IonosClient } from "../../targets/ionos/client.ts";
import { enqueueSync, type SyncJobData } from "../../queue/sync_queue.ts";
import type { IonosRecords } from "../../targets/ionos/records.ts";
import type { EntityKey, WantedStateStore } from "../../store/wanted_state.ts";
import type { AuditLog } from "../oplog/audit_log.ts";
import { adoptableGroup, computePlan, type Plan } from "./plan.ts";
import {
  type AccessReads,
  type Progress,
  readIonos,
  readWanted,
  type WantedSnapshot,
} from "./snapshot.ts";
import { isProtectedEmail } from "../../config/mapping.ts";
import { groupShares } from "../../targets/ionos/mapping.ts";
import { userRemoval } from "../../targets/ionos/decisions.ts";

export interface ReconcileDeps {
  store: WantedStateStore;
  records: IonosRecords;
  ionos: IonosClient;
  mapping: Mapping;
  queue: Queue<SyncJobData>;
  audit?: AuditLog;
  /** Who asked, for the audit log. @default "unknown" */
  actor?: string;
}

export interface ReconcileOptions {
  /** Only compute the plan. @default false */
  dryRun?: boolean;
  onProgress?: Progress;
}

export interface ReconcileReport extends Plan {
  dryRun: boolean;
  /** Entities whose sync job was enqueued (empty on a dry run). */
  enqueued: EntityKey[];
  scanned: { wantedUsers: number; wantedGroups: number; ionosUsers: number; ionosGroups: number };
  startedAt: string;
  finishedAt: string;
}

/**
 * Compares wanted state with IONOS and, unless `dryRun`, enqueues the plan.
 *
 * @example
 * const report = await reconcile(deps, { dryRun: true });
 * if (report.items.length) console.log(report.counts);
 */
export async function reconcile(
  deps: ReconcileDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const { dryRun = false, onProgress } = options;
  const startedAt = new Date().toISOString();
  const wanted = await readWanted(deps.store, deps.records, onProgress);
  const ionos = await readIonos(
    deps.ionos,
    (groups) => {
      const ids = new Set<string>();
      for (const twin of wanted.groupTwins.values()) if (twin.ionosId) ids.add(twin.ionosId);
      // Groups that would be adopted: their members decide what the first sync adds.
      for (const g of wanted.groups.values()) {
        if (g.deleted || wanted.groupTwins.get(g.id)?.ionosId) continue;
        const match = adoptableGroup(wanted.managedGroups, groups, g.displayName);
        if (match) ids.add(match.id);
      }
      return [...ids];
    },
    onProgress,
    accessReads(deps.mapping, wanted),
  );
  const plan = computePlan(deps.mapping, wanted, ionos);
  const enqueued = dryRun ? [] : plan.entities;
  if (!dryRun) {
    // Before the add: a job of these entities waiting for its requests must see the ask.
    await deps.records.nudge(enqueued);
    await enqueueSync(deps.queue, enqueued);
  }
  const report: ReconcileReport = {
    ...plan,
    dryRun,
    enqueued,
    scanned: {
      wantedUsers: wanted.users.size,
      wantedGroups: wanted.groups.size,
      ionosUsers: ionos.users.size,
      ionosGroups: ionos.groups.size,
    },
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  // A dry run changes nothing, so there is nothing to audit.
  if (!dryRun && deps.audit) {
    await deps.audit.record({
      action: "reconcile",
      actor: deps.actor ?? "unknown",
      detail: { counts: plan.counts, enqueued: enqueued.length },
    });
  }
  return report;
}

/**
 * Shares are read for managed groups the mapping gives shares to or that have shares the
 * service set; S3 keys for managed accounts that are (to be) deactivated or have keys the
 * service turned off. Everything else has nothing to check, so costs no call.
 */
function accessReads(mapping: Mapping, wanted: WantedSnapshot): AccessReads {
  return {
    resources: Object.keys(mapping.groups.shares).length > 0,
    shareGroups: () => {
      const ids: string[] = [];
      for (const [id, twin] of wanted.groupTwins) {
        const g = wanted.groups.get(id);
        const named = g && !g.deleted && groupShares(mapping, g.displayName).length > 0;
        if (twin.ionosId && (named || twin.managedShares)) ids.push(twin.ionosId);
      }
      return ids;
    },
    keyUsers: (users) => {
      const ids: string[] = [];
      for (const [id, twin] of wanted.userTwins) {
        const u = wanted.users.get(id);
        const off = u &&
          (u.deleted ? userRemoval(mapping, twin.origin) === "deactivate" : !u.active);
        if (!twin.ionosId || !(off || twin.s3KeysOff)) continue;
        // A protected account's keys are not even read.
        if (isProtectedEmail(mapping, users.get(twin.ionosId)?.properties.email)) continue;
        ids.push(twin.ionosId);
      }
      return ids;
    },
  };
}
