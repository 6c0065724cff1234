/**
 * The audit log: what operators did (retry, discard, replay, pause, resume, reconcile), who did
 * it and why, in a Redis stream trimmed like the event log. A discarded job's reason and last
 * error survive here after the job itself is gone.
 */
import type { Redis } from "ioredis";
import { storeKeys } from "../../store/keys.ts";

export type AuditAction =
  | "retry"
  | "discard"
  | "replay"
  | "pause"
  | "resume"
  | "reconcile";

export interface AuditRecord {
  action: AuditAction;
  /** Who: "cli:<user>", "admin-api", "scheduler". */
  actor: string;
  entity?: string | undefined;
  jobId?: string | undefined;
  reason?: string | undefined;
  /** Anything else worth keeping (the job's last error, counts). */
  detail?: Record<string, unknown> | undefined;
}

export interface AuditEntry extends AuditRecord {
  /** Stream id; its milliseconds are when it happened. */
  logId: string;
  at: string;
}

export interface AuditLogOptions {
  /** @default "sync" */
  prefix?: string;
  /** @default 30 days: operator actions are rare and worth keeping longer than events */
  maxAgeMs?: number;
  /** @default 10_000 */
  maxEntries?: number;
}

/**
 * @example
 * const audit = new AuditLog(redis);
 * await audit.record({ action: "discard", actor: "cli:ops", jobId: "42", reason: "user left" });
 */
export class AuditLog {
  readonly key: string;
  readonly #redis: Redis;
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;

  constructor(redis: Redis, options: AuditLogOptions = {}) {
    const { prefix = "sync", maxAgeMs = 30 * 24 * 3_600_000, maxEntries = 10_000 } = options;
    this.#redis = redis;
    this.key = storeKeys(prefix).auditLog;
    this.#maxAgeMs = maxAgeMs;
    this.#maxEntries = maxEntries;
  }

  /** Appends a record; returns its log id. */
  async record(record: AuditRecord): Promise<string> {
    const fields: string[] = ["action", record.action, "actor", record.actor];
    if (record.entity) fields.push("entity", record.entity);
    if (record.jobId) fields.push("job", record.jobId);
    if (record.reason) fields.push("reason", record.reason);
    if (record.detail) fields.push("detail", JSON.stringify(record.detail));
    const minId = String(Math.max(0, Date.now() - this.#maxAgeMs));
    const [[, id]] = await this.#redis.multi()
      .xadd(this.key, "MAXLEN", "~", this.#maxEntries, "*", ...fields)
      .xtrim(this.key, "MINID", "~", minId)
      .exec() as [[null, string], unknown];
    return id;
  }

  /**
   * Drops records older than the retention age, as `record` does; for times without actions.
   * @returns how many records were dropped
   */
  async trimByAge(nowMs: number): Promise<number> {
    return await this.#redis.xtrim(this.key, "MINID", String(Math.max(0, nowMs - this.#maxAgeMs)));
  }

  /**
   * The newest records, optionally for one entity or job.
   * @param scanLimit records read at most when filtering @default 5000
   */
  async list(
    filter: {
      entity?: string | undefined;
      jobId?: string | undefined;
      limit?: number | undefined;
      scanLimit?: number | undefined;
    } = {},
  ): Promise<AuditEntry[]> {
    const { limit = 50, scanLimit = 5000 } = filter;
    const filtering = !!(filter.entity || filter.jobId);
    const rows = await this.#redis.xrevrange(
      this.key,
      "+",
      "-",
      "COUNT",
      filtering ? scanLimit : limit,
    );
    const out: AuditEntry[] = [];
    for (const [logId, flat] of rows) {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
      if (filter.entity && f.entity !== filter.entity) continue;
      if (filter.jobId && f.job !== filter.jobId) continue;
      out.push({
        logId,
        at: new Date(Number(logId.split("-")[0])).toISOString(),
        action: f.action as AuditAction,
        actor: f.actor ?? "",
        entity: f.entity || undefined,
        jobId: f.job || undefined,
        reason: f.reason || undefined,
        detail: f.detail ? safeJson(f.detail) : undefined,
      });
      if (out.length >= limit) break;
    }
    return out;
  }
}

function safeJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}
