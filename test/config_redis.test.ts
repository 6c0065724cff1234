/** Redis settings at start-up: a URL or Sentinels, TLS, and replica confirmations. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/config.ts";
import { describeRedis, parseHostPorts } from "../src/store/redis_connection.ts";

const base = { IONOS_TOKEN: "t", EVENTS_TOKEN: "0123456789abcdef" };
const dir = mkdtempSync(join(tmpdir(), "redis-config-"));
const caFile = join(dir, "ca.pem");
writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("Redis settings", () => {
  it("takes a URL as it is, with no replica confirmations by default", () => {
    const c = loadConfig({ ...base, REDIS_URL: "redis://:pw@10.0.0.1:6380/2" });
    expect(c.redis).toEqual({
      kind: "url",
      url: "redis://:pw@10.0.0.1:6380/2",
      waitReplicas: 0,
      waitTimeoutMs: 2000,
    });
  });

  it("reads Sentinels, master name and credentials, and waits for one replica by default", () => {
    const c = loadConfig({
      ...base,
      REDIS_SENTINELS: "s1.internal:26379, 10.0.0.2:26380,[::1]:26381",
      REDIS_SENTINEL_NAME: "sync-primary",
      REDIS_SENTINEL_PASSWORD: "sentinel-secret",
      REDIS_PASSWORD: "data-secret",
      REDIS_DB: "3",
      REDIS_TLS: "true",
      REDIS_TLS_CA_FILE: caFile,
    });
    expect(c.redis).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "s1.internal", port: 26379 },
        { host: "10.0.0.2", port: 26380 },
        { host: "::1", port: 26381 },
      ],
      masterName: "sync-primary",
      sentinelPassword: "sentinel-secret",
      sentinelTls: false,
      password: "data-secret",
      db: 3,
      tls: true,
      tlsCa: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      waitReplicas: 1,
      waitTimeoutMs: 2000,
    });
    // Messages name where Redis is, never a password.
    expect(describeRedis(c.redis)).toBe(
      'primary "sync-primary" via Sentinels s1.internal:26379,10.0.0.2:26380,::1:26381',
    );
  });

  it("reads Cluster nodes, and wraps the store's and BullMQ's prefixes in hash tags", () => {
    const c = loadConfig({
      ...base,
      REDIS_CLUSTER_NODES: "10.0.0.1:7000,10.0.0.2:7000",
      REDIS_PASSWORD: "cluster-secret",
      REDIS_TLS: "true",
    });
    expect(c.redis).toEqual({
      kind: "cluster",
      nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "10.0.0.2", port: 7000 }],
      password: "cluster-secret",
      tls: true,
      waitReplicas: 0,
      waitTimeoutMs: 2000,
    });
    // One hash slot per part: every script and MULTI of the store runs on one node.
    expect([c.redisPrefix, c.bullPrefix]).toEqual(["{sync}", "{sync}bull"]);
    expect(describeRedis(c.redis)).toBe("Redis Cluster via 10.0.0.1:7000,10.0.0.2:7000");
    // Elsewhere the keys stay as they were: no migration for existing deployments.
    const plain = loadConfig({ ...base, REDIS_URL: "redis://h:6379", REDIS_PREFIX: "idp" });
    expect([plain.redisPrefix, plain.bullPrefix]).toEqual(["idp", "bull"]);
  });

  it("lets the operator choose how many replicas confirm an event, and for how long", () => {
    const c = loadConfig({
      ...base,
      REDIS_URL: "rediss://redis.internal:6380",
      REDIS_WAIT_REPLICAS: "2",
      REDIS_WAIT_TIMEOUT_MS: "500",
    });
    expect([c.redis.waitReplicas, c.redis.waitTimeoutMs]).toEqual([2, 500]);
  });

  it.each([
    [
      { REDIS_URL: "redis://a:6379", REDIS_SENTINELS: "a:26379", REDIS_SENTINEL_NAME: "m" },
      ["REDIS_URL, REDIS_SENTINELS: set one, not several"],
    ],
    [
      { REDIS_SENTINELS: "a:26379" },
      ["REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the monitored master name)"],
    ],
    [
      { REDIS_SENTINELS: "a:26379,b", REDIS_SENTINEL_NAME: "m" },
      ['REDIS_SENTINELS: "b" is not host:port (list them as host:port,host:port)'],
    ],
    [
      { REDIS_SENTINELS: "a:70000", REDIS_SENTINEL_NAME: "m" },
      ['REDIS_SENTINELS: "a:70000" is not host:port (list them as host:port,host:port)'],
    ],
    [
      { REDIS_URL: "redis://a:6379", REDIS_PASSWORD: "x", REDIS_TLS: "true" },
      [
        "REDIS_PASSWORD, REDIS_TLS: only with REDIS_SENTINELS or REDIS_CLUSTER_NODES; " +
        "with REDIS_URL, put credentials, database and TLS (rediss://) in the URL",
      ],
    ],
    [
      { REDIS_URL: "redis://a:6379", REDIS_TLS_CA_FILE: caFile },
      ["REDIS_TLS_CA_FILE: only with TLS (a rediss:// URL, REDIS_TLS or REDIS_SENTINEL_TLS)"],
    ],
    [
      { REDIS_URL: "redis://a:6379", REDIS_CLUSTER_NODES: "a:7000" },
      ["REDIS_URL, REDIS_CLUSTER_NODES: set one, not several"],
    ],
    [
      { REDIS_CLUSTER_NODES: "a:7000", REDIS_WAIT_REPLICAS: "1", REDIS_SENTINEL_NAME: "m" },
      [
        "REDIS_WAIT_REPLICAS: not with REDIS_CLUSTER_NODES (WAIT would reach one node)",
        "REDIS_SENTINEL_NAME: only with REDIS_SENTINELS",
      ],
    ],
    [
      { REDIS_URL: "http://a:6379" },
      ["REDIS_URL: must be a redis:// or rediss:// URL"],
    ],
  ])("refuses %j with one line per problem", (env, expected) => {
    expect(problems(env)).toEqual(expected);
  });

  it("names a CA file it cannot read", () => {
    const p = problems({ REDIS_URL: "rediss://a:6380", REDIS_TLS_CA_FILE: join(dir, "missing") });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^REDIS_TLS_CA_FILE: cannot read it \(.+\)$/);
  });

  it("never puts a password into a problem or a description", () => {
    const p = problems({
      REDIS_SENTINELS: "a:1",
      REDIS_SENTINEL_PASSWORD: "sentinel-secret-x",
      REDIS_PASSWORD: "data-secret-x",
    });
    expect(p.join("\n")).not.toMatch(/secret-x/);
    expect(describeRedis({
      kind: "url",
      url: "rediss://user:pw-secret-x@h:6380/1",
      waitReplicas: 0,
      waitTimeoutMs: 1,
    })).toBe("rediss://user:***@h:6380/1");
  });
});

describe("parseHostPorts()", () => {
  it("reads names, IPv4 and bracketed IPv6", () => {
    expect(parseHostPorts("a:1,127.0.0.1:65535,[fe80::1]:26379")).toEqual([
      { host: "a", port: 1 },
      { host: "127.0.0.1", port: 65535 },
      { host: "fe80::1", port: 26379 },
    ]);
  });
  it.each(["", "a", "a:0", ":26379", "a:b", "a:1,,b:2"])("refuses %j", (text) => {
    expect(typeof parseHostPorts(text)).toBe("string");
  });
});
