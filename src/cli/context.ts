/**
 * What a CLI command works with: the same configuration loader, Redis keys and queues as the
 * service, opened for one command and closed after it. IONOS is opened only for commands that
 * call it, so most commands need nothing but REDIS_URL.
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type Config, loadConfig } from "../config/config.ts";
import { loadMapping, type Mapping } from "../config/mapping.ts";
import type { IonosClient } from "../targets/ionos/client.ts";
import type { AuditLog } from "../ops/oplog/audit_log.ts";
import { OpsError } from "../ops/errors.ts";
import type { EventLog } from "../ops/oplog/event_log.ts";
import type { ReconcileJobData } from "../ops/queues/scheduler.ts";
import { createSyncQueue, type SyncJobData } from "../queue/sync_queue.ts";
import {
  auditLog,
  commandRedis,
  eventLog,
  ionosClient,
  reconcileQueue as reconcileQueueFor,
  syncQueueOptions,
  syncRecords,
  wantedStateStore,
} from "../service/parts.ts";
import { describeRedis } from "../store/redis_connection.ts";
import type { IonosRecords } from "../targets/ionos/records.ts";
import type { WantedStateStore } from "../store/wanted_state.ts";

/** Also what the operator actions take as their deps (`OpsDeps`, `ReplayDeps`). */
export interface CliContext {
  config: Config;
  redis: Redis;
  queue: Queue<SyncJobData>;
  reconcileQueue: Queue<ReconcileJobData>;
  store: WantedStateStore;
  records: IonosRecords;
  eventLog: EventLog;
  audit: AuditLog;
  /** For the audit log: "cli:<user>". */
  actor: string;
  /** The IONOS client, through the shared rate limiter. @throws {OpsError} without credentials */
  ionos(): Promise<IonosClient>;
  mapping(): Promise<Mapping>;
  close(): Promise<void>;
}

/**
 * Opens Redis (failing fast when it is unreachable) and the stores.
 *
 * @throws {ConfigError} for a bad environment
 * @throws {MappingError} for a bad SYNC_CONFIG file
 * @throws {OpsError} unavailable when Redis does not answer
 */
export async function openContext(env: Record<string, string | undefined>): Promise<CliContext> {
  const config = loadConfig(env, "cli");
  // Read before anything opens: the store needs its administrators (a replayed membership in
  // such a group must re-sync the user, as through the intake), and a bad file is a
  // configuration problem like a bad environment.
  const mapping = await loadMapping(config.syncConfigPath);
  const redis = commandRedis(config.redis);
  let lastError: Error | undefined;
  redis.on("error", (e: Error) => lastError = e); // reported once, below
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const why = (lastError ?? error as Error).message;
    throw new OpsError(
      "unavailable",
      `cannot reach Redis at ${describeRedis(config.redis)}: ${why}`,
    );
  }
  const queue = createSyncQueue(redis, syncQueueOptions(config));
  const reconcileQueue = reconcileQueueFor(redis, config);
  let client: Promise<IonosClient> | undefined;
  return {
    config,
    redis,
    queue,
    reconcileQueue,
    store: wantedStateStore(redis, config, mapping),
    records: syncRecords(redis, config),
    eventLog: eventLog(redis, config),
    audit: auditLog(redis, config),
    actor: `cli:${env.USER ?? env.USERNAME ?? "unknown"}`,
    async ionos() {
      if (!config.ionos.auth) {
        throw new OpsError(
          "invalid",
          "IONOS_TOKEN (or IONOS_USERNAME + IONOS_PASSWORD) is needed for this command",
        );
      }
      // The same client and limiter as the workers: a reconcile must not starve them into 429s.
      client ??= ionosClient(redis, config).then(({ client }) => client);
      return await client;
    },
    mapping() {
      return Promise.resolve(mapping);
    },
    async close() {
      await Promise.allSettled([queue.close(), reconcileQueue.close()]);
      redis.disconnect();
    },
  };
}
