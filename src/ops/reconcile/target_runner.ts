/**
 * Reconcile of the targets beside IONOS, wired from the configuration: per target its client
 * (src/targets/clients.ts: the workers' credentials and shared rate limiter), its twin records
 * and its queue. The reconcile worker (src/service/workers.ts) and the CLI both run targets this way.
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../../config/config.ts";
import type { Mapping } from "../../config/mapping.ts";
import {
  createTargetQueue,
  type QueuedTarget,
  queuedTargets,
  type TargetJobData,
  targetQueueName,
} from "../../queue/target_queue.ts";
import type { IonosRecords } from "../../targets/ionos/records.ts";
import type { WantedStateStore } from "../../store/wanted_state.ts";
import { cloudflareClientFor, contaboClientFor } from "../../targets/clients.ts";
import { TargetLinks } from "../../targets/links.ts";
import type { AuditLog } from "../oplog/audit_log.ts";
import { OpsError } from "../errors.ts";
import type { ReconcileOptions } from "./reconcile.ts";
import {
  reconcileTarget,
  type TargetClientOf,
  type TargetReconcileReport,
} from "./target_reconcile.ts";

/** Options for {@linkcode targetReconciler}. */
export interface TargetReconcilerOptions {
  config: Config;
  mapping: Mapping;
  redis: Redis;
  store: WantedStateStore;
  records: IonosRecords;
  audit?: AuditLog;
  /** The target queues already open; a target without one gets one for the run. @default none */
  queues?: readonly Queue<TargetJobData>[];
}

/** Runs one target's reconcile; `actor` is who asked, for the audit log. */
export type TargetReconciler = (
  target: QueuedTarget,
  options: ReconcileOptions & { actor?: string },
) => Promise<TargetReconcileReport>;

/**
 * @example
 * const run = targetReconciler({ config, mapping, redis, store, records, audit, queues });
 * const report = await run("contabo", { dryRun: true, actor: "scheduler" });
 */
export function targetReconciler(options: TargetReconcilerOptions): TargetReconciler {
  const { config, mapping, redis, store, records, audit, queues = [] } = options;
  const clients = new Map<QueuedTarget, Promise<TargetClientOf>>();
  const clientOf = (target: QueuedTarget): Promise<TargetClientOf> => {
    let client = clients.get(target);
    if (!client) {
      client = target === "contabo"
        ? contaboClientFor(config, redis).then((c) => ({ target, client: c }))
        : cloudflareClientFor(config, redis).then((c) => ({ target, client: c }));
      // A missing setting is reported each time, not cached.
      client.catch(() => clients.delete(target));
      clients.set(target, client);
    }
    return client;
  };
  return async function reconcileOneTarget(target, run) {
    if (!queuedTargets(mapping).includes(target)) {
      throw new OpsError("invalid", `${target} is not in the mapping's targets`);
    }
    const open = queues.find((q) => q.name === targetQueueName(target));
    const queue = open ?? createTargetQueue(redis, target, {
      prefix: config.bullPrefix,
      attempts: config.jobAttempts,
      backoffMs: config.jobBackoffMs,
    });
    try {
      return await reconcileTarget(
        {
          ...await clientOf(target),
          store,
          records,
          links: new TargetLinks(redis, target, { prefix: config.redisPrefix }),
          mapping,
          queue,
          audit,
          actor: run.actor,
        },
        run,
      );
    } finally {
      if (!open) await queue.close();
    }
  };
}
