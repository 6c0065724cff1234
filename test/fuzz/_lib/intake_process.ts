/**
 * The target of a fuzz test: a real intake process (`--role api`) on a private Redis, with a
 * second Redis connection to snapshot what the process stored. Started before the file's tests
 * and stopped after them.
 */
import { afterAll, beforeAll } from "vitest";
import { Redis } from "ioredis";
import { type ServiceProcess, spawnService } from "../../_support/service_process.ts";
import { EVENTS_TOKEN } from "../../_support/harness.ts";
import { startRedis, type TestRedis } from "../../_support/redis.ts";

export interface IntakeProcess {
  /** The intake process; set once `beforeAll` has run. */
  proc: ServiceProcess;
  /** A connection to the intake's Redis, for snapshots. */
  probe: Redis;
}

/** The queues an intake opens; BullMQ writes each one's `meta` hash once, soon after start. */
const QUEUE_META_KEYS = ["bull:ionos-sync:meta", "bull:ionos-reconcile:meta"];

/**
 * Waits for the writes an intake makes on its own at start-up (BullMQ 6 writes a queue's meta
 * hash after the queue connects, which may be after /healthz answers), so that a snapshot taken
 * next shows only what requests change.
 */
async function startupWritesSettled(probe: Redis, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await probe.exists(...QUEUE_META_KEYS)) < QUEUE_META_KEYS.length) {
    if (Date.now() > deadline) {
      throw new Error(`intake start-up: ${QUEUE_META_KEYS.join(", ")} not written in time`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Registers `beforeAll`/`afterAll` hooks that start and stop an intake process with
 * `REDIS_URL`, `EVENTS_TOKEN` and `env`.
 */
export function useIntakeProcess(env: Record<string, string>): IntakeProcess {
  const target = {} as IntakeProcess;
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    target.probe = new Redis(redis.url);
    target.proc = await spawnService("api", {
      env: { REDIS_URL: redis.url, EVENTS_TOKEN, ...env },
    });
    await startupWritesSettled(target.probe);
  });
  afterAll(async () => {
    target.probe?.disconnect();
    await target.proc?.kill("SIGTERM");
    await redis?.stop();
  });
  return target;
}
