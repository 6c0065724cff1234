/**
 * Service configuration, read once from the environment at start-up and validated with zod.
 * Every problem is reported on its own line, and nothing starts until all are fixed.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import {
  bullPrefixFor,
  clusterPrefix,
  parseHostPorts,
  type RedisSettings,
} from "../store/redis_connection.ts";

/** `cli`: operator commands; needs only Redis (IONOS credentials only for reconcile). */
export type Role = "api" | "worker" | "all" | "cli";

const wholeNumber = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  wholeNumber(min, max).default(def);
const optionalText = z.string().trim().min(1).optional();
const hostPorts = z.string().transform((text, ctx) => {
  const parsed = parseHostPorts(text);
  if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
  return typeof parsed === "string" ? z.NEVER : parsed;
}).optional();

const Env = z.object({
  PORT: int(8080, 0, 65535),
  HOST: z.string().default("0.0.0.0"),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").optional(),
  REDIS_PREFIX: z.string().regex(/^[\w.-]+$/).default("sync"),
  /** Redis Sentinel instead of REDIS_URL: `host:port,host:port`. */
  REDIS_SENTINELS: hostPorts,
  /** Redis Cluster instead of REDIS_URL: some of its nodes, `host:port,host:port`. */
  REDIS_CLUSTER_NODES: hostPorts,
  REDIS_SENTINEL_NAME: z.string().regex(/^[\w.-]+$/, "must be a Sentinel master name").optional(),
  REDIS_SENTINEL_USERNAME: optionalText,
  REDIS_SENTINEL_PASSWORD: optionalText,
  REDIS_SENTINEL_TLS: z.enum(["true", "false"], "must be true or false").default("false"),
  /** Primary and replicas in Sentinel mode; with REDIS_URL they belong in the URL. */
  REDIS_USERNAME: optionalText,
  REDIS_PASSWORD: optionalText,
  REDIS_DB: int(0, 0, 10_000),
  REDIS_TLS: z.enum(["true", "false"], "must be true or false").default("false"),
  REDIS_TLS_CA_FILE: optionalText,
  /** Replicas that must have an event before the intake answers 2xx (default 1 with Sentinel). */
  REDIS_WAIT_REPLICAS: wholeNumber(0, 100).optional(),
  REDIS_WAIT_TIMEOUT_MS: int(2_000, 1, 60_000),
  IONOS_API_URL: z.url().default("https://api.ionos.com/cloudapi/v6"),
  IONOS_TOKEN: optionalText,
  IONOS_USERNAME: optionalText,
  IONOS_PASSWORD: optionalText,
  IONOS_CONTRACT_NUMBER: z.string().regex(/^\d+$/, "must be digits").optional(),
  /** Requests per second to IONOS, shared by every worker using the same credentials. */
  IONOS_RATE_LIMIT_RPS: z.coerce.number().positive().max(1000).default(10),
  IONOS_MAX_ATTEMPTS: int(5, 1, 50),
  IONOS_TIMEOUT_MS: int(30_000, 100),
  IONOS_REQUEST_TIMEOUT_MS: int(300_000, 1000),
  CONTABO_API_URL: z.url().default("https://api.contabo.com"),
  /** Contabo's OAuth2 token endpoint (src/targets/contabo/auth.ts says where it is documented). */
  CONTABO_AUTH_URL: z.url().default(
    "https://auth.contabo.com/auth/realms/contabo/protocol/openid-connect/token",
  ),
  CONTABO_CLIENT_ID: optionalText,
  CONTABO_CLIENT_SECRET: optionalText,
  CONTABO_API_USER: optionalText,
  CONTABO_API_PASSWORD: optionalText,
  /** Contabo publishes no figure; a modest default. */
  CONTABO_RATE_LIMIT_RPS: z.coerce.number().positive().max(1000).default(5),
  CLOUDFLARE_API_URL: z.url().default("https://api.cloudflare.com/client/v4"),
  CLOUDFLARE_API_TOKEN: optionalText,
  CLOUDFLARE_ACCOUNT_ID: z.string().regex(/^[0-9a-f]{32}$/i, "must be 32 hex digits").optional(),
  /**
   * Cloudflare allows 1200 requests per five minutes per token, 4/s (src/targets/cloudflare/
   * client.ts); Enterprise accounts may have it raised, hence no hard cap at 4.
   */
  CLOUDFLARE_RATE_LIMIT_RPS: z.coerce.number().positive().max(1000).default(3.5),
  EVENTS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]{8,}$/, "must be whsec_<base64>")
    .optional(),
  ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  SCIM_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** Signing secret of the WorkOS webhook endpoint; enables POST /hooks/workos. */
  WORKOS_WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  /** Shared secret of the Keycloak (p2-inc keycloak-events) webhook; enables /hooks/keycloak. */
  KEYCLOAK_WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  SYNC_CONFIG: optionalText,
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  BODY_LIMIT_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  /** Bytes of signed bodies read at once, process-wide, before their signature is checked. */
  UNAUTHENTICATED_BYTES_IN_FLIGHT: int(8 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  /** A request head must arrive within this time from its first byte (slowloris). */
  HTTP_HEADER_TIMEOUT_MS: int(10_000, 100, 600_000),
  /** A connection with no request in progress is closed after this. */
  HTTP_IDLE_TIMEOUT_MS: int(30_000, 100, 3_600_000),
  /** A signed body must arrive within this time. */
  BODY_READ_TIMEOUT_MS: int(10_000, 100, 300_000),
  EVENT_DEDUPE_TTL_SECONDS: int(7 * 24 * 3600, 60),
  /** How far an event's `time` may be ahead of Redis' clock before it is applied at that clock. */
  MAX_EVENT_CLOCK_SKEW_SECONDS: int(300, 0, 7 * 24 * 3600),
  JOB_ATTEMPTS: int(8, 1, 100),
  JOB_BACKOFF_MS: int(2000, 10),
  WORKER_CONCURRENCY: int(4, 1, 100),
  /** BullMQ job lock; a killed worker's jobs are retried once it lapses. */
  WORKER_LOCK_DURATION_MS: int(30_000, 1000),
  /** How often workers look for jobs whose lock lapsed (stalled jobs). */
  WORKER_STALLED_INTERVAL_MS: int(30_000, 500),
  SHUTDOWN_TIMEOUT_MS: int(30_000, 0),
  /** Deno's built-in OpenTelemetry; when on, BullMQ spans are added too. */
  OTEL_DENO: z.enum(["true", "false", "1", "0"]).optional(),
  /** Event log retention by age and by count (0 entries: no event log). */
  EVENT_LOG_MAX_AGE_HOURS: int(7 * 24, 1, 24 * 366),
  EVENT_LOG_MAX_ENTRIES: int(100_000, 0, 10_000_000),
  /** How long deleted users' tombstones keep their email, and finished jobs are kept. */
  RETENTION_HOURS: int(7 * 24, 1, 24 * 366),
  /** When set, GET /metrics asks for it as a bearer token. */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /**
   * Role worker only: serve /metrics, /healthz and /readyz on this port. Unset, a worker serves
   * them on PORT when PORT is set (as the image does), so one HEALTHCHECK fits every role.
   */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ADMIN_DASHBOARD_READONLY: z.enum(["true", "false"], "must be true or false").default("false"),
  /** Scheduled reconcile: 0 is off. */
  RECONCILE_INTERVAL_MINUTES: int(0, 0, 7 * 24 * 60),
  RECONCILE_MODE: z.enum(["report", "fix"]).default("report"),
});

export interface Config {
  role: Role;
  port: number;
  host: string;
  /** Where Redis is: a URL or Sentinels, TLS, and how many replicas confirm an event. */
  redis: RedisSettings;
  redisPrefix: string;
  /** BullMQ's key prefix: `bull`, or `{sync}bull` on a Cluster (the store's slot: bullPrefixFor). */
  bullPrefix: string;
  ionos: {
    apiUrl: string;
    auth?: { token: string } | { username: string; password: string } | undefined;
    contractNumber?: string | undefined;
    rateLimitPerSecond: number;
    maxAttempts: number;
    timeoutMs: number;
    requestTimeoutMs: number;
  };
  /** Contabo settings; `credentials` only when all four are set (src/targets/settings.ts). */
  contabo: {
    apiUrl: string;
    authUrl: string;
    credentials?: { clientId: string; clientSecret: string; apiUser: string; apiPassword: string };
    /** Names of the CONTABO_* credentials that are not set. */
    missing: string[];
    rateLimitPerSecond: number;
  };
  /** Cloudflare settings; `apiToken`/`accountId` only when set. */
  cloudflare: {
    apiUrl: string;
    apiToken?: string | undefined;
    accountId?: string | undefined;
    /** Names of the CLOUDFLARE_* settings that are not set. */
    missing: string[];
    rateLimitPerSecond: number;
  };
  eventsToken?: string | undefined;
  webhookSecret?: string | undefined;
  adminToken?: string | undefined;
  scimToken?: string | undefined;
  workosWebhookSecret?: string | undefined;
  keycloakWebhookSecret?: string | undefined;
  syncConfigPath?: string | undefined;
  logLevel: z.infer<typeof Env>["LOG_LEVEL"];
  bodyLimitBytes: number;
  unauthenticatedBytes: number;
  bodyReadTimeoutMs: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  dedupeTtlSeconds: number;
  /** Event times further ahead of Redis' clock are applied at that clock. */
  maxEventClockSkewMs: number;
  jobAttempts: number;
  jobBackoffMs: number;
  workerConcurrency: number;
  workerLockDurationMs: number;
  workerStalledIntervalMs: number;
  shutdownTimeoutMs: number;
  /** OTEL_DENO is on: add BullMQ's spans to Deno's traces. */
  tracing: boolean;
  /** Event log, metrics, dashboard and scheduled reconcile (src/ops, src/metrics). */
  ops: {
    eventLogMaxAgeMs: number;
    /** 0: events are not logged. */
    eventLogMaxEntries: number;
    /** Tombstone emails and finished jobs older than this are removed by the sweeper. */
    retentionMs: number;
    metricsToken?: string | undefined;
    metricsPort?: number;
    dashboardReadOnly: boolean;
    reconcileIntervalMinutes: number;
    reconcileMode: "report" | "fix";
  };
}

/** Thrown by `loadConfig`; `problems` has one line per missing or malformed setting. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`configuration is not valid:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads the configuration for a role from environment variables.
 *
 * @param env variables, e.g. `Deno.env.toObject()`
 * @throws {ConfigError} listing every problem
 * @example
 * const config = loadConfig(Deno.env.toObject(), "all");
 */
export function loadConfig(env: Record<string, string | undefined>, role: Role = "all"): Config {
  // Empty strings count as unset, as compose files often leave `KEY=` lines.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  const parsed = Env.safeParse(cleaned);
  // Report malformed values and missing combinations together: one line per problem.
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  const c = cleaned as Record<string, string | undefined>;
  problems.push(...redisProblems(c));
  if (c.IONOS_USERNAME && !c.IONOS_PASSWORD && !c.IONOS_TOKEN) {
    problems.push("IONOS_PASSWORD: required when IONOS_USERNAME is set");
  }
  if (
    (role === "worker" || role === "all") && !c.IONOS_TOKEN &&
    !(c.IONOS_USERNAME && c.IONOS_PASSWORD)
  ) {
    problems.push("IONOS_TOKEN (or IONOS_USERNAME + IONOS_PASSWORD): required to run workers");
  }
  // Any one way in is enough: a SCIM-only or webhook-only deployment needs no EVENTS_TOKEN.
  const waysIn = [
    "EVENTS_TOKEN",
    "WEBHOOK_SECRET",
    "SCIM_TOKEN",
    "WORKOS_WEBHOOK_SECRET",
    "KEYCLOAK_WEBHOOK_SECRET",
  ] as const;
  if ((role === "api" || role === "all") && !waysIn.some((k) => c[k])) {
    problems.push(`${waysIn.join(", ")}: set at least one, or the intake accepts nothing`);
  }
  if (problems.length || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const redis = redisSettings(e);
  const auth = e.IONOS_TOKEN
    ? { token: e.IONOS_TOKEN }
    : e.IONOS_USERNAME && e.IONOS_PASSWORD
    ? { username: e.IONOS_USERNAME, password: e.IONOS_PASSWORD }
    : undefined;
  return {
    role,
    port: e.PORT,
    host: e.HOST,
    redis,
    // On a Cluster every key of the store shares one hash slot: see clusterPrefix.
    redisPrefix: clusterPrefix(redis, e.REDIS_PREFIX),
    bullPrefix: bullPrefixFor(redis, e.REDIS_PREFIX),
    ionos: {
      apiUrl: e.IONOS_API_URL.replace(/\/+$/, ""),
      auth,
      contractNumber: e.IONOS_CONTRACT_NUMBER,
      rateLimitPerSecond: e.IONOS_RATE_LIMIT_RPS,
      maxAttempts: e.IONOS_MAX_ATTEMPTS,
      timeoutMs: e.IONOS_TIMEOUT_MS,
      requestTimeoutMs: e.IONOS_REQUEST_TIMEOUT_MS,
    },
    contabo: contaboSettings(e),
    cloudflare: cloudflareSettings(e),
    eventsToken: e.EVENTS_TOKEN,
    webhookSecret: e.WEBHOOK_SECRET,
    adminToken: e.ADMIN_TOKEN,
    scimToken: e.SCIM_TOKEN,
    workosWebhookSecret: e.WORKOS_WEBHOOK_SECRET,
    keycloakWebhookSecret: e.KEYCLOAK_WEBHOOK_SECRET,
    syncConfigPath: e.SYNC_CONFIG,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    unauthenticatedBytes: e.UNAUTHENTICATED_BYTES_IN_FLIGHT,
    bodyReadTimeoutMs: e.BODY_READ_TIMEOUT_MS,
    headerTimeoutMs: e.HTTP_HEADER_TIMEOUT_MS,
    idleTimeoutMs: e.HTTP_IDLE_TIMEOUT_MS,
    dedupeTtlSeconds: e.EVENT_DEDUPE_TTL_SECONDS,
    maxEventClockSkewMs: e.MAX_EVENT_CLOCK_SKEW_SECONDS * 1000,
    jobAttempts: e.JOB_ATTEMPTS,
    jobBackoffMs: e.JOB_BACKOFF_MS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    workerLockDurationMs: e.WORKER_LOCK_DURATION_MS,
    workerStalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    tracing: e.OTEL_DENO === "true" || e.OTEL_DENO === "1",
    ops: {
      eventLogMaxAgeMs: e.EVENT_LOG_MAX_AGE_HOURS * 3_600_000,
      eventLogMaxEntries: e.EVENT_LOG_MAX_ENTRIES,
      retentionMs: e.RETENTION_HOURS * 3_600_000,
      metricsToken: e.METRICS_TOKEN,
      ...(e.METRICS_PORT !== undefined
        ? { metricsPort: e.METRICS_PORT }
        : c.PORT !== undefined && role === "worker"
        ? { metricsPort: e.PORT }
        : {}),
      dashboardReadOnly: e.ADMIN_DASHBOARD_READONLY === "true",
      reconcileIntervalMinutes: e.RECONCILE_INTERVAL_MINUTES,
      reconcileMode: e.RECONCILE_MODE,
    },
  };
}

type Parsed = z.infer<typeof Env>;

/** Contabo's settings; credentials only when all four are there (else `missing` names them). */
function contaboSettings(e: Parsed): Config["contabo"] {
  const named = {
    CONTABO_CLIENT_ID: e.CONTABO_CLIENT_ID,
    CONTABO_CLIENT_SECRET: e.CONTABO_CLIENT_SECRET,
    CONTABO_API_USER: e.CONTABO_API_USER,
    CONTABO_API_PASSWORD: e.CONTABO_API_PASSWORD,
  };
  const missing = Object.entries(named).filter(([, v]) => !v).map(([k]) => k);
  return {
    apiUrl: e.CONTABO_API_URL.replace(/\/+$/, ""),
    authUrl: e.CONTABO_AUTH_URL,
    ...(missing.length === 0
      ? {
        credentials: {
          clientId: e.CONTABO_CLIENT_ID!,
          clientSecret: e.CONTABO_CLIENT_SECRET!,
          apiUser: e.CONTABO_API_USER!,
          apiPassword: e.CONTABO_API_PASSWORD!,
        },
      }
      : {}),
    missing,
    rateLimitPerSecond: e.CONTABO_RATE_LIMIT_RPS,
  };
}

/** Cloudflare's settings; `missing` names what is not set. */
function cloudflareSettings(e: Parsed): Config["cloudflare"] {
  const missing = [
    ...(e.CLOUDFLARE_API_TOKEN ? [] : ["CLOUDFLARE_API_TOKEN"]),
    ...(e.CLOUDFLARE_ACCOUNT_ID ? [] : ["CLOUDFLARE_ACCOUNT_ID"]),
  ];
  return {
    apiUrl: e.CLOUDFLARE_API_URL.replace(/\/+$/, ""),
    apiToken: e.CLOUDFLARE_API_TOKEN,
    accountId: e.CLOUDFLARE_ACCOUNT_ID,
    missing,
    rateLimitPerSecond: e.CLOUDFLARE_RATE_LIMIT_RPS,
  };
}

type Env = z.infer<typeof Env>;

/** Combinations of Redis settings that cannot work, one line each. */
function redisProblems(c: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const ways = (["REDIS_URL", "REDIS_SENTINELS", "REDIS_CLUSTER_NODES"] as const).filter((k) =>
    c[k]
  );
  if (ways.length > 1) {
    problems.push(`${ways.join(", ")}: set one, not several`);
  } else if (ways.length === 0) {
    problems.push(
      "REDIS_URL: required (e.g. redis://localhost:6379), or REDIS_SENTINELS + REDIS_SENTINEL_NAME",
    );
  }
  if (c.REDIS_CLUSTER_NODES && Number(c.REDIS_WAIT_REPLICAS ?? 0) > 0) {
    problems.push("REDIS_WAIT_REPLICAS: not with REDIS_CLUSTER_NODES (WAIT would reach one node)");
  }
  if (c.REDIS_SENTINELS && !c.REDIS_SENTINEL_NAME) {
    problems.push("REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the monitored master name)");
  }
  const sentinelOnly = [
    "REDIS_SENTINEL_NAME",
    "REDIS_SENTINEL_USERNAME",
    "REDIS_SENTINEL_PASSWORD",
    "REDIS_SENTINEL_TLS",
    "REDIS_DB",
  ];
  const notInUrl = ["REDIS_USERNAME", "REDIS_PASSWORD", "REDIS_TLS"];
  const misplaced = (names: string[]) => names.filter((k) => c[k] !== undefined);
  if (c.REDIS_CLUSTER_NODES && misplaced(sentinelOnly).length) {
    problems.push(`${misplaced(sentinelOnly).join(", ")}: only with REDIS_SENTINELS`);
  }
  if (!c.REDIS_SENTINELS && !c.REDIS_CLUSTER_NODES) {
    const wrong = misplaced([...sentinelOnly, ...notInUrl]);
    if (wrong.length) {
      problems.push(
        `${wrong.join(", ")}: only with REDIS_SENTINELS or REDIS_CLUSTER_NODES; ` +
          "with REDIS_URL, put credentials, database and TLS (rediss://) in the URL",
      );
    }
  }
  const tls = c.REDIS_URL?.startsWith("rediss://") || c.REDIS_TLS === "true" ||
    c.REDIS_SENTINEL_TLS === "true";
  if (c.REDIS_TLS_CA_FILE) {
    if (!tls) {
      problems.push(
        "REDIS_TLS_CA_FILE: only with TLS (a rediss:// URL, REDIS_TLS or REDIS_SENTINEL_TLS)",
      );
    } else {
      try {
        readFileSync(c.REDIS_TLS_CA_FILE);
      } catch (error) {
        problems.push(`REDIS_TLS_CA_FILE: cannot read it (${(error as Error).message})`);
      }
    }
  }
  return problems;
}

/** `Config.redis` from the checked environment (see `redisProblems`). */
function redisSettings(e: Env): RedisSettings {
  const common = {
    ...(e.REDIS_TLS_CA_FILE ? { tlsCa: readFileSync(e.REDIS_TLS_CA_FILE, "utf8") } : {}),
    waitTimeoutMs: e.REDIS_WAIT_TIMEOUT_MS,
  };
  const credentials = {
    username: e.REDIS_USERNAME,
    password: e.REDIS_PASSWORD,
  };
  if (e.REDIS_CLUSTER_NODES) {
    return {
      kind: "cluster",
      nodes: e.REDIS_CLUSTER_NODES,
      ...credentials,
      tls: e.REDIS_TLS === "true",
      waitReplicas: 0,
      ...common,
    };
  }
  if (!e.REDIS_SENTINELS) {
    return { kind: "url", url: e.REDIS_URL!, waitReplicas: e.REDIS_WAIT_REPLICAS ?? 0, ...common };
  }
  return {
    kind: "sentinel",
    sentinels: e.REDIS_SENTINELS,
    masterName: e.REDIS_SENTINEL_NAME!,
    sentinelUsername: e.REDIS_SENTINEL_USERNAME,
    sentinelPassword: e.REDIS_SENTINEL_PASSWORD,
    sentinelTls: e.REDIS_SENTINEL_TLS === "true",
    ...credentials,
    db: e.REDIS_DB,
    tls: e.REDIS_TLS === "true",
    // Sentinel means a replica to fail over to: an event is accepted once it has it too.
    waitReplicas: e.REDIS_WAIT_REPLICAS ?? 1,
    ...common,
  };
}
