/**
 * Drift detection and repair for a target beside IONOS, as `reconcile.ts` does for IONOS: read
 * both sides, compute the target's plan with its own decisions, and (unless it is a dry run)
 * enqueue one job per affected entity on that target's queue. Reconcile never writes to the
 * target: its worker makes the changes, exactly as for an IdP event, under the same safety
 * rules; accounts the sync does not manage are only reported.
 */
import type { Queue } from "bullmq";
import type { Mapping } from "../../config/mapping.ts";
import {
  enqueueTargetSyncs,
  type TargetJobData,
  targetQueueName,
} from "../../queue/target_queue.ts";
import type { IonosRecords } from "../../targets/ionos/records.ts";
import type { EntityKey, WantedStateStore } from "../../store/wanted_state.ts";
import type { CloudflareClient } from "../../targets/cloudflare/client.ts";
import type { ContaboClient } from "../../targets/contabo/client.ts";
import type { TargetLinks } from "../../targets/links.ts";
import type { AuditLog } from "../oplog/audit_log.ts";
import { planCloudflareDrift } from "./cloudflare_plan.ts";
import { planContaboDrift } from "./contabo_plan.ts";
import type { ReconcileOptions } from "./reconcile.ts";
import { readWanted } from "./snapshot.ts";
import type { TargetPlan } from "./target_plan.ts";
import { readCloudflare, readContabo, readTargetTwins } from "./target_snapshot.ts";

/** The target and its client: each reads its own cloud. */
export type TargetClientOf =
  | { target: "contabo"; client: ContaboClient }
  | { target: "cloudflare"; client: CloudflareClient };

export type TargetReconcileDeps = TargetClientOf & {
  store: WantedStateStore;
  /** Read for the wanted state's snapshot (shared with IONOS reconcile). */
  records: IonosRecords;
  /** This target's twin records. */
  links: TargetLinks;
  mapping: Mapping;
  /** This target's own queue: repairs go there, never to the cloud directly. */
  queue: Queue<TargetJobData>;
  audit?: AuditLog | undefined;
  /** Who asked, for the audit log. @default "unknown" */
  actor?: string | undefined;
};

export interface TargetReconcileReport extends TargetPlan {
  dryRun: boolean;
  /** Entities whose job was enqueued on the target's queue (empty on a dry run). */
  enqueued: EntityKey[];
  scanned: { wantedUsers: number; wantedGroups: number; targetUsers: number; targetGroups: number };
  startedAt: string;
  finishedAt: string;
}

/**
 * Compares wanted state with one target and, unless `dryRun`, enqueues the plan there.
 *
 * @example
 * const report = await reconcileTarget({ target: "contabo", client, ...deps }, { dryRun: true });
 * report.counts.unmanaged; // accounts in Contabo the sync leaves alone
 */
export async function reconcileTarget(
  deps: TargetReconcileDeps,
  options: ReconcileOptions = {},
): Promise<TargetReconcileReport> {
  const { dryRun = false, onProgress } = options;
  if (deps.queue.name !== targetQueueName(deps.target)) {
    // A repair on another target's queue would run that target's job: refuse before reading.
    throw new RangeError(
      `Cannot reconcile ${deps.target} as 'queue' must be ${
        targetQueueName(deps.target)
      }: current value is ${deps.queue.name}`,
    );
  }
  const startedAt = new Date().toISOString();
  const wanted = await readWanted(deps.store, deps.records, onProgress);
  const twins = await readTargetTwins(deps.links, wanted);
  let plan: TargetPlan;
  let targetUsers: number;
  let targetGroups = 0;
  if (deps.target === "contabo") {
    const contabo = await readContabo(deps.client, onProgress);
    plan = planContaboDrift(deps.mapping, wanted, twins, contabo);
    targetUsers = contabo.users.size;
  } else {
    const cf = await readCloudflare(deps.client, deps.mapping, wanted, twins, onProgress);
    plan = planCloudflareDrift(deps.mapping, wanted, twins, cf);
    targetUsers = cf.members.size;
    targetGroups = cf.groups.size;
  }
  const enqueued = dryRun ? [] : plan.entities;
  if (!dryRun) await enqueueTargetSyncs([deps.queue], enqueued);
  const report: TargetReconcileReport = {
    ...plan,
    dryRun,
    enqueued,
    scanned: {
      wantedUsers: wanted.users.size,
      wantedGroups: wanted.groups.size,
      targetUsers,
      targetGroups,
    },
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  // A dry run changes nothing, so there is nothing to audit.
  if (!dryRun && deps.audit) {
    await deps.audit.record({
      action: "reconcile",
      actor: deps.actor ?? "unknown",
      detail: { target: deps.target, counts: plan.counts, enqueued: enqueued.length },
    });
  }
  return report;
}
