/**
 * For tests that call a queued target's sync steps directly (`syncCloudflareUser()`,
 * `syncContaboUser()`, ...) rather than through the harness: a private Redis and the target's
 * simulator over HTTP, sync contexts each on its own key prefix, and a hook that runs one job
 * inside another's call, which makes a race between two jobs deterministic.
 */
import type { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { parseMapping } from "../../src/config/mapping.ts";
import { parseEventBatch } from "../../src/events/event.ts";
import { silentLogger } from "../../src/log.ts";
import { createTargetQueue, type QueuedTarget } from "../../src/queue/target_queue.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { CloudflareClient } from "../../src/targets/cloudflare/client.ts";
import {
  CLOUDFLARE_SIM_ACCOUNT,
  CLOUDFLARE_SIM_TOKEN,
} from "../../src/targets/cloudflare/simulator/app.ts";
import {
  type RunningCloudflareSimulator,
  startCloudflareSimulator,
} from "../../src/targets/cloudflare/simulator/server.ts";
import { ContaboClient } from "../../src/targets/contabo/client.ts";
import { CONTABO_SIM_CREDENTIALS } from "../../src/targets/contabo/simulator/app.ts";
import {
  type RunningContaboSimulator,
  startContaboSimulator,
} from "../../src/targets/contabo/simulator/server.ts";
import { TargetLinks } from "../../src/targets/links.ts";
import type { TargetSyncContext } from "../../workers/target_context.ts";
import { startRedis } from "./redis.ts";

/** What every target's simulator server gives: its state, and a way to stop it. */
interface SimulatorServer {
  sim: unknown;
  close(): Promise<void>;
}

/** Redis and one target's simulator; `close()` stops both and every queue its contexts made. */
export interface TargetJobs<Simulator extends SimulatorServer, Client> {
  /** A connection BullMQ accepts (`maxRetriesPerRequest: null`). */
  readonly conn: Redis;
  readonly simulator: Simulator;
  /** The simulator's state (`simulator.sim`), to arrange and check what the target holds. */
  readonly sim: Simulator["sim"];
  /**
   * A sync context on `prefix` (wanted state, links and queue) with a client of its own, so one
   * job's calls can be hooked without touching another's. `mapping` is the mapping document.
   */
  context(prefix: string, mapping: unknown): TargetSyncContext<Client>;
  close(): Promise<void>;
}

/** A Cloudflare client for the simulator, retrying after 1 ms rather than seconds. */
export function cloudflareClient(sim: RunningCloudflareSimulator): CloudflareClient {
  return new CloudflareClient({
    apiUrl: sim.url,
    apiToken: CLOUDFLARE_SIM_TOKEN,
    accountId: CLOUDFLARE_SIM_ACCOUNT,
    baseDelayMs: 1,
  });
}

/** A Contabo client for the simulator, retrying after 1 ms rather than seconds. */
export function contaboClient(sim: RunningContaboSimulator): ContaboClient {
  return new ContaboClient({
    apiUrl: sim.url,
    authUrl: sim.authUrl,
    credentials: { ...CONTABO_SIM_CREDENTIALS },
    baseDelayMs: 1,
  });
}

/** Redis and the Cloudflare simulator, for `CloudflareSyncContext`s. */
export function startCloudflareJobs(): Promise<
  TargetJobs<RunningCloudflareSimulator, CloudflareClient>
> {
  return startTargetJobs("cloudflare", startCloudflareSimulator, cloudflareClient);
}

/** Redis and the Contabo simulator, for `ContaboSyncContext`s. */
export function startContaboJobs(): Promise<TargetJobs<RunningContaboSimulator, ContaboClient>> {
  return startTargetJobs("contabo", startContaboSimulator, contaboClient);
}

/**
 * Redis and the Cloudflare simulator for the tests of this file: started before them, stopped
 * after them. Use it from a test file's top level.
 */
export function cloudflareJobsForFile(): FileTargetJobs<
  RunningCloudflareSimulator,
  CloudflareClient
> {
  return forFile(startCloudflareJobs);
}

/**
 * Redis and the Contabo simulator for the tests of this file: started before them, stopped
 * after them. Use it from a test file's top level.
 */
export function contaboJobsForFile(): FileTargetJobs<RunningContaboSimulator, ContaboClient> {
  return forFile(startContaboJobs);
}

/** {@linkcode TargetJobs} whose life the test file's `beforeAll` / `afterAll` manage. */
export type FileTargetJobs<Simulator extends SimulatorServer, Client> = Omit<
  TargetJobs<Simulator, Client>,
  "close"
>;

function forFile<Simulator extends SimulatorServer, Client>(
  start: () => Promise<TargetJobs<Simulator, Client>>,
): FileTargetJobs<Simulator, Client> {
  let jobs: TargetJobs<Simulator, Client> | undefined;
  beforeAll(async () => {
    jobs = await start();
  }, 30_000);
  afterAll(() => jobs?.close());
  const started = () => {
    if (!jobs) throw new Error("target jobs used outside this file's tests");
    return jobs;
  };
  return {
    get conn() {
      return started().conn;
    },
    get simulator() {
      return started().simulator;
    },
    get sim() {
      return started().simulator.sim;
    },
    context: (prefix, mapping) => started().context(prefix, mapping),
  };
}

async function startTargetJobs<Simulator extends SimulatorServer, Client>(
  target: QueuedTarget,
  startSimulator: () => Promise<Simulator>,
  clientOf: (sim: Simulator) => Client,
): Promise<TargetJobs<Simulator, Client>> {
  const redis = await startRedis();
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  let simulator: Simulator;
  try {
    simulator = await startSimulator();
  } catch (error) {
    conn.disconnect();
    await redis.stop();
    throw error;
  }
  const queues: Queue[] = [];
  return {
    conn,
    simulator,
    get sim() {
      return simulator.sim;
    },
    context(prefix, mapping) {
      // A queue per prefix: follow-up jobs of one test never meet another's.
      const queue = createTargetQueue(conn, target, { prefix: `bull-${prefix}` });
      queues.push(queue);
      return {
        store: new WantedStateStore(conn, { prefix }),
        links: new TargetLinks(conn, target, { prefix }),
        mapping: parseMapping(JSON.stringify(mapping)),
        client: clientOf(simulator),
        queue,
        logger: silentLogger,
      };
    },
    async close() {
      await Promise.all(queues.map((q) => q.close()));
      conn.disconnect();
      await simulator.close();
      await redis.stop();
    },
  };
}

/**
 * Applies one IdP event body (or a batch) to `store`, as the intake would.
 *
 * @throws {Error} if the body is not a valid event batch
 */
export async function applyEvents(store: WantedStateStore, body: unknown): Promise<void> {
  const parsed = parseEventBatch(body);
  if (!parsed.success) throw new Error("bad test event");
  await store.applyEvents(parsed.events);
}

// deno-lint-ignore no-explicit-any -- any method's arguments; `never[]` would not infer them
type AsyncMethod = (...args: any[]) => Promise<unknown>;
type AsyncMethodName<T> = { [K in keyof T]: T[K] extends AsyncMethod ? K : never }[keyof T];

/**
 * Runs `during` right after `target`'s next `method` call answered (before its caller sees the
 * answer), once: the call is restored first, so jobs run in `during` call the real method.
 */
export function afterNextCall<T extends object, K extends AsyncMethodName<T>>(
  target: T,
  method: K,
  during: (...args: Parameters<Extract<T[K], AsyncMethod>>) => unknown,
): void {
  const real = (target[method] as AsyncMethod).bind(target);
  const hooked: AsyncMethod = async (...args) => {
    const answer = await real(...args);
    target[method] = real as T[K];
    await during(...(args as Parameters<Extract<T[K], AsyncMethod>>));
    return answer;
  };
  target[method] = hooked as T[K];
}
