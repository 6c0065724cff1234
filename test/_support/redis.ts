/**
 * Starts a private redis-server for a test file on a free port; never touches one already running.
 * Also a Sentinel group (primary, replica, three Sentinels) and a TLS-only server.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  port: number;
  /** `redis://127.0.0.1:port`, or `rediss://` when started with `tls`. */
  url: string;
  /** A fresh client; closed by `stop()`. */
  client(): Redis;
  /** Stops the server (data kept on disk), as when Redis crashes or restarts. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  appendOnly?: boolean;
  /** More redis-server arguments, e.g. `["--replicaof", "127.0.0.1", "6380"]`. */
  args?: string[];
  /** Serve TLS only (no plain port), with these files from `makeTestTls`. */
  tls?: TestTls;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sync-redis-"));
  const clients: Redis[] = [];
  let child: ChildProcess | undefined;
  const t = options.tls;
  const listen = t
    ? [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--tls-cert-file",
      t.certFile,
      "--tls-key-file",
      t.keyFile,
      "--tls-ca-cert-file",
      t.caFile,
      "--tls-auth-clients",
      "no",
    ]
    : ["--port", String(port)];
  // Not `RedisOptions`: its `replyMapping?: ... | undefined` is refused by ioredis' own
  // constructor under `exactOptionalPropertyTypes`.
  const connection: { port: number; tls?: { ca: string } } = {
    port,
    ...(t ? { tls: { ca: t.ca } } : {}),
  };

  const launch = async () => {
    child = spawn("redis-server", [
      ...listen,
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      options.appendOnly ? "yes" : "no",
      "--appendfsync",
      "always",
      ...(options.args ?? []),
    ], { stdio: "ignore" });
    const probe = new Redis({ ...connection, lazyConnect: true, retryStrategy: () => null });
    probe.on("error", () => {}); // refused connections are expected until the server is up
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGKILL");
    });
  };
  await launch();
  return {
    port,
    url: `${t ? "rediss" : "redis"}://127.0.0.1:${port}`,
    client() {
      const c = new Redis({ ...connection, maxRetriesPerRequest: null });
      clients.push(c);
      return c;
    },
    kill,
    restart: launch,
    async stop() {
      for (const c of clients) c.disconnect();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A private CA and a server certificate for 127.0.0.1, made with the openssl command. */
export interface TestTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The CA certificate, PEM. */
  ca: string;
  stop(): void;
}

/** Why a TLS test cannot run here, or undefined when it can. */
export function tlsUnavailable(): string | undefined {
  const openssl = spawnSync("openssl", ["version"], { encoding: "utf8" });
  if (openssl.status !== 0) return "the openssl command is not installed";
  // A redis-server built without TLS stops at once on an unknown --tls-port option.
  const probe = spawnSync("redis-server", [
    "--port",
    "0",
    "--tls-port",
    "0",
    "--loglevel",
    "warning",
  ], {
    encoding: "utf8",
    timeout: 5_000,
  });
  const said = `${probe.stdout}${probe.stderr}`;
  if (/Bad directive|unknown|not supported/i.test(said)) {
    return `redis-server was built without TLS (${said.trim().split("\n").pop()})`;
  }
  return undefined;
}

/** Makes a CA and a certificate for IP 127.0.0.1 and `localhost`, valid for a day. */
export function makeTestTls(): TestTls {
  const dir = mkdtempSync(join(tmpdir(), "sync-tls-"));
  const f = (name: string) => join(dir, name);
  const run = (args: string[]) => {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=sync test CA"]
    .concat(["-keyout", f("ca.key"), "-out", f("ca.pem")]));
  run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1"]
    .concat(["-keyout", f("server.key"), "-out", f("server.csr")]));
  writeFileSync(f("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run(["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key")]
    .concat(["-CAcreateserial", "-days", "1", "-extfile", f("ext.cnf"), "-out", f("server.pem")]));
  return {
    caFile: f("ca.pem"),
    certFile: f("server.pem"),
    keyFile: f("server.key"),
    ca: readFileSync(f("ca.pem"), "utf8"),
    stop: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A primary, one replica and three Sentinels watching them, all on free local ports. */
export interface TestSentinelGroup {
  /** The name the Sentinels monitor the primary under. */
  masterName: string;
  /** `REDIS_SENTINELS` for the service: `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`. */
  sentinelList: string;
  /** Both data nodes; which one is the primary changes on failover. */
  nodes: TestRedis[];
  /** The data node the Sentinels name as primary now. */
  primary(): Promise<TestRedis>;
  /** SIGKILLs the current primary; resolves with the node killed. */
  killPrimary(): Promise<TestRedis>;
  /** Waits until the Sentinels name another primary than `port`, and it answers as primary. */
  waitForFailover(port: number, timeoutMs?: number): Promise<TestRedis>;
  /** A client that follows the primary through the Sentinels; closed by `stop()`. */
  client(): Redis;
  stop(): Promise<void>;
}

/**
 * Starts a Sentinel group. `down-after-milliseconds` is 1 s, so a failover takes a few seconds.
 * Resolves once every Sentinel knows the replica and the others, so a failover can happen.
 */
export async function startSentinelGroup(
  options: { masterName?: string } = {},
): Promise<TestSentinelGroup> {
  const masterName = options.masterName ?? "sync-primary";
  const first = await startRedis({ appendOnly: true });
  const second = await startRedis({
    appendOnly: true,
    args: ["--replicaof", "127.0.0.1", String(first.port)],
  });
  const nodes = [first, second];
  const dir = mkdtempSync(join(tmpdir(), "sync-sentinel-"));
  const sentinels: { port: number; child: ChildProcess }[] = [];
  const clients: Redis[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${i}.conf`);
    // Sentinel rewrites its config file as it learns: each needs a writable one of its own.
    writeFileSync(
      conf,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${first.port} 2`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 10000`,
        `sentinel parallel-syncs ${masterName} 1`,
        "",
      ].join("\n"),
    );
    const child = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
    sentinels.push({ port, child });
  }
  const ask = async <T>(fn: (s: Redis) => Promise<T>): Promise<T> => {
    let lastError: unknown;
    for (const { port } of sentinels) {
      const s = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
      s.on("error", () => {});
      try {
        await s.connect();
        return await fn(s);
      } catch (e) {
        lastError = e;
      } finally {
        s.disconnect();
      }
    }
    throw lastError;
  };
  const primaryPort = async () =>
    Number(
      (await ask((s) => s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)) as string[])[1],
    );
  const stopServers = async () => {
    await Promise.all(sentinels.map(({ child }) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      })
    ));
    for (const n of nodes) await n.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready: every Sentinel sees the replica and the two other Sentinels, and the quorum holds.
  const deadline = Date.now() + 30_000;
  for (const { port } of sentinels) {
    const s = new Redis({ port, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    s.on("error", () => {});
    try {
      for (;;) {
        const replicas = await s.call("SENTINEL", "REPLICAS", masterName).catch(() => []);
        const peers = await s.call("SENTINEL", "SENTINELS", masterName).catch(() => []);
        const quorum = await s.call("SENTINEL", "CKQUORUM", masterName).catch(() => "");
        if (
          (replicas as unknown[]).length === 1 && (peers as unknown[]).length === 2 &&
          String(quorum).startsWith("OK")
        ) break;
        if (Date.now() > deadline) {
          await stopServers(); // a group that did not form leaves no servers behind
          throw new Error("Sentinel group did not become ready in 30 s");
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      s.disconnect();
    }
  }
  const nodeAt = (port: number) => {
    const n = nodes.find((x) => x.port === port);
    if (!n) throw new Error(`Sentinels name an unknown primary on port ${port}`);
    return n;
  };
  const group: TestSentinelGroup = {
    masterName,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(","),
    nodes,
    primary: async () => nodeAt(await primaryPort()),
    async killPrimary() {
      const p = await group.primary();
      await p.kill();
      return p;
    },
    async waitForFailover(port, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const now = await primaryPort().catch(() => port);
        if (now !== port) {
          const n = nodeAt(now);
          const probe = new Redis({ port: n.port, lazyConnect: true, retryStrategy: () => null });
          probe.on("error", () => {});
          try {
            await probe.connect();
            const role = await probe.call("ROLE") as [string];
            if (role[0] === "master") return n;
          } catch {
            // promoted but not answering yet
          } finally {
            probe.disconnect();
          }
        }
        if (Date.now() > until) throw new Error(`no failover from port ${port} in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    client() {
      const c = new Redis({
        sentinels: sentinels.map((s) => ({ host: "127.0.0.1", port: s.port })),
        name: masterName,
        maxRetriesPerRequest: null,
      });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await stopServers();
    },
  };
  return group;
}

/**
 * A local Redis Cluster of primaries only, each owning an equal share of the 16384 slots. As a
 * `TestRedis`, `client()` is a Cluster client (typed as `Redis`, as the service's own is) and
 * `port`/`url` are the first node's; `kill`/`restart` throw.
 */
export interface TestRedisCluster extends TestRedis {
  /** The primaries. */
  nodes: TestRedis[];
  /** `REDIS_CLUSTER_NODES`: `127.0.0.1:p1,127.0.0.1:p2,...` */
  nodesList: string;
}

/**
 * Starts `primaries` redis-servers in cluster mode (bus ports chosen free too, with
 * `cluster-port`), gives each a range of slots, introduces them (CLUSTER MEET) and waits until
 * every node says `cluster_state:ok`.
 */
export async function startRedisCluster(primaries = 3): Promise<TestRedisCluster> {
  const nodes: TestRedis[] = [];
  const busPorts: number[] = [];
  for (let i = 0; i < primaries; i++) {
    const busPort = await freePort();
    busPorts.push(busPort);
    nodes.push(
      await startRedis({
        args: [
          "--cluster-enabled",
          "yes",
          "--cluster-port",
          String(busPort),
          "--cluster-config-file",
          `nodes-${i}.conf`,
          "--cluster-node-timeout",
          "2000",
        ],
      }),
    );
  }
  const admin = nodes.map((n) => new Redis({ port: n.port, maxRetriesPerRequest: 1 }));
  let formed = false;
  try {
    const per = Math.ceil(16384 / primaries);
    for (let i = 0; i < primaries; i++) {
      const from = i * per;
      const to = Math.min(16383, from + per - 1);
      await admin[i]!.call("CLUSTER", "ADDSLOTSRANGE", String(from), String(to));
    }
    for (let i = 1; i < primaries; i++) {
      // The bus port must be named: MEET assumes port + 10000 otherwise.
      await admin[0]!.call(
        "CLUSTER",
        "MEET",
        "127.0.0.1",
        String(nodes[i]!.port),
        String(busPorts[i]!),
      );
    }
    const deadline = Date.now() + 30_000;
    for (const a of admin) {
      while (!String(await a.call("CLUSTER", "INFO")).includes("cluster_state:ok")) {
        if (Date.now() > deadline) throw new Error("Redis Cluster did not reach state ok in 30 s");
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    formed = true;
  } finally {
    for (const a of admin) a.disconnect();
    // A cluster that did not form leaves no servers behind.
    if (!formed) { for (const n of nodes) await n.stop(); }
  }
  const clients: Cluster[] = [];
  const unsupported = () => Promise.reject(new Error("kill/restart a node of the cluster instead"));
  return {
    nodes,
    nodesList: nodes.map((n) => `127.0.0.1:${n.port}`).join(","),
    port: nodes[0]!.port,
    url: nodes[0]!.url,
    client() {
      const c = new Cluster(nodes.map((n) => ({ host: "127.0.0.1", port: n.port })), {
        redisOptions: { maxRetriesPerRequest: null },
      });
      clients.push(c);
      return c as unknown as Redis;
    },
    kill: unsupported,
    restart: unsupported,
    async stop() {
      for (const c of clients) c.disconnect();
      for (const n of nodes) await n.stop();
    },
  };
}
