/**
 * Where Redis is and how to reach it: one URL (`redis://`, or `rediss://` for TLS), Redis
 * Sentinel, or Redis Cluster. Every Redis connection the service makes (intake, workers, their
 * BullMQ queues and workers, the dashboard, the CLI) is created here, so a setting applies to all.
 */
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { definedProps } from "../defined_props.ts";

/** One Sentinel's address. */
export interface HostPort {
  host: string;
  port: number;
}

/** A single Redis (or a proxy in front of one) reached by URL. */
export interface RedisUrlSettings {
  kind: "url";
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: string;
}

/** A primary found through Redis Sentinel, and followed across failovers. */
export interface RedisSentinelSettings {
  kind: "sentinel";
  sentinels: HostPort[];
  /** The name the Sentinels monitor the primary under (`sentinel monitor <name> ...`). */
  masterName: string;
  /** For the Sentinels themselves (`requirepass` / ACL user in sentinel.conf). */
  sentinelUsername?: string | undefined;
  sentinelPassword?: string | undefined;
  /** TLS to the Sentinels. */
  sentinelTls: boolean;
  /** For the primary and replicas. */
  username?: string | undefined;
  password?: string | undefined;
  db: number;
  /** TLS to the primary and replicas. */
  tls: boolean;
}

/**
 * A Redis Cluster, reached through any of its nodes. Each part of the service keeps its keys in
 * one hash slot (see `clusterPrefix`), so its scripts and transactions work unchanged.
 */
export interface RedisClusterSettings {
  kind: "cluster";
  nodes: HostPort[];
  username?: string | undefined;
  password?: string | undefined;
  tls: boolean;
}

/** Everything the service needs to connect to Redis; `Config.redis`. */
export type RedisSettings = (RedisUrlSettings | RedisSentinelSettings | RedisClusterSettings) & {
  /** PEM certificates of the CA(s) to trust for TLS connections, instead of the system's. */
  tlsCa?: string;
  /**
   * Replicas that must have an accepted event before the intake answers 2xx (Redis `WAIT`); 0
   * answers as soon as the primary has it.
   */
  waitReplicas: number;
  /** How long the intake waits for those replicas before answering 503. */
  waitTimeoutMs: number;
};

/**
 * Options that differ by role (fail fast in the intake, wait in workers); see `createRedis`.
 * Without `replyMapping`: the service uses the default, and ioredis' constructor types refuse
 * its own `RedisOptions["replyMapping"]` (`| undefined`) under `exactOptionalPropertyTypes`.
 */
export type RoleOptions = Omit<
  RedisOptions,
  "host" | "port" | "path" | "sentinels" | "name" | "password" | "username" | "tls" | "replyMapping"
>;

/**
 * Parses `host:port,host:port` (IPv6 as `[::1]:26379`).
 *
 * @returns the addresses, or a message naming the first entry that is not `host:port`
 */
export function parseHostPorts(text: string): HostPort[] | string {
  const out: HostPort[] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(entry);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) {
      return `"${entry}" is not host:port (list them as host:port,host:port)`;
    }
    out.push({ host: (m[1] ?? m[2])!, port });
  }
  return out;
}

/**
 * A new client for `settings`, with `role` options on top (retries, timeouts, lazy connect).
 *
 * In Sentinel mode ioredis asks the Sentinels for the primary, guarantees that the node it reached
 * is the primary, and asks again after a lost connection (ioredis README, "Sentinel").
 * `failoverDetector` also drops the connection as soon as a Sentinel announces `+switch-master`,
 * rather than when the old primary stops answering. TLS: ioredis (SentinelConnector source)
 * uses `tls` for the primary only with `enableTLSForSentinelMode`, and `sentinelTLS` for the
 * Sentinels, whatever its README says of the former.
 *
 * @example
 * const redis = createRedis(config.redis, { maxRetriesPerRequest: null });
 */
export function createRedis(settings: RedisSettings, role: RoleOptions = {}): Redis {
  const tls = settings.tlsCa ? { ca: settings.tlsCa } : {};
  if (settings.kind === "cluster") return createCluster(settings, role, tls);
  if (settings.kind === "url") {
    // Options given as an object win over the URL's; TLS stays off for redis:// URLs.
    return new Redis(settings.url, {
      ...role,
      ...(settings.url.startsWith("rediss://") ? { tls } : {}),
    });
  }
  const s = settings;
  return new Redis({
    ...role,
    sentinels: s.sentinels,
    name: s.masterName,
    db: s.db,
    failoverDetector: true,
    // Unset (or empty) settings are left out rather than passed as undefined: ioredis copies
    // its options key by key, and a key it holds is one it may act on.
    ...definedProps({
      username: s.username || undefined,
      password: s.password || undefined,
      sentinelUsername: s.sentinelUsername || undefined,
      sentinelPassword: s.sentinelPassword || undefined,
      tls: s.tls ? tls : undefined,
      enableTLSForSentinelMode: s.tls ? true : undefined,
      sentinelTLS: s.sentinelTls ? tls : undefined,
    }),
  });
}

/**
 * A Cluster client, typed as the `Redis` the stores take. Why the cast is sound here: the stores
 * use only commands (which Cluster routes by key and runs the same), `pipeline`/`multi` on keys
 * of one slot, `on`/`once`/`status`/`disconnect`/`duplicate`, all of which Cluster has too;
 * `WAIT` is refused for clusters by the configuration (it would reach a random node). BullMQ
 * takes either (its `ConnectionOptions`). test/pipeline/sync.test.ts runs on a Cluster.
 */
function createCluster(
  s: RedisClusterSettings,
  role: RoleOptions,
  tls: { ca?: string },
): Redis {
  const { retryStrategy, ...nodeOptions } = role;
  const cluster = new Cluster(s.nodes, {
    redisOptions: {
      ...nodeOptions,
      ...definedProps({
        username: s.username || undefined,
        password: s.password || undefined,
        tls: s.tls ? tls : undefined,
      }),
    },
    // Cluster reconnects with its own strategy; the role's decides as for one server. Unset
    // options are left out, as above.
    ...definedProps({
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue: role.enableOfflineQueue,
      lazyConnect: role.lazyConnect,
    }),
  });
  return cluster as unknown as Redis;
}

/**
 * The key prefix a part of the service uses (`sync` for the store, `bull` for BullMQ), wrapped
 * in a hash tag on a Cluster: `{sync}:user:1` and `{sync}:outbox` then share one slot, so every
 * Lua script and MULTI of that part runs on one node, as Redis Cluster requires
 * (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags). BullMQ
 * asks for the same for its queues (https://docs.bullmq.io/patterns/redis-cluster).
 */
export function clusterPrefix(settings: Pick<RedisSettings, "kind">, prefix: string): string {
  return settings.kind === "cluster" ? `{${prefix}}` : prefix;
}

/**
 * BullMQ's key prefix: `bull`, or on a Cluster `{<store prefix>}bull`, in the store's hash slot:
 * the intake adds its jobs, clears the outbox and appends to the event log in one MULTI
 * (src/queue/atomic_enqueue.ts), and a transaction must stay within one slot on a Cluster.
 */
export function bullPrefixFor(settings: Pick<RedisSettings, "kind">, storePrefix: string): string {
  return settings.kind === "cluster" ? `{${storePrefix}}bull` : "bull";
}

/** Where Redis is, for messages: never a password. */
export function describeRedis(settings: RedisSettings): string {
  if (settings.kind === "cluster") {
    return `Redis Cluster via ${settings.nodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
  }
  if (settings.kind === "sentinel") {
    const list = settings.sentinels.map((s) => `${s.host}:${s.port}`).join(",");
    return `primary "${settings.masterName}" via Sentinels ${list}`;
  }
  try {
    const u = new URL(settings.url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(REDIS_URL)";
  }
}
