/**
 * The target worker with a real Redis and the Contabo simulator over HTTP: a cloud that says
 * "come back in N seconds" delays the job without using an attempt; a permanent error fails it
 * at once and lands in the twin record without a secret.
 */
import { Queue, type Worker } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";
import {
  createTargetQueue,
  enqueueTargetSyncs,
  type TargetJobData,
} from "../../src/queue/target_queue.ts";
import type { ContaboClient } from "../../src/targets/contabo/client.ts";
import { CONTABO_SIM_CREDENTIALS } from "../../src/targets/contabo/simulator/app.ts";
import type { RunningContaboSimulator } from "../../src/targets/contabo/simulator/server.ts";
import { TargetLinks } from "../../src/targets/links.ts";
import { createTargetWorker } from "../../workers/target_worker.ts";
import { contaboClient, startContaboJobs, type TargetJobs } from "../_support/target_jobs.ts";

let jobs: TargetJobs<RunningContaboSimulator, ContaboClient>;
let conn: Redis;
let contabo: RunningContaboSimulator;
let queue: Queue<TargetJobData>;
let worker: Worker<TargetJobData>;
let links: TargetLinks;
const logs: string[] = [];

beforeAll(async () => {
  jobs = await startContaboJobs();
  conn = jobs.conn;
  contabo = jobs.simulator;
  const client = contaboClient(contabo);
  links = new TargetLinks(conn, "contabo", { prefix: "t" });
  queue = createTargetQueue(conn, "contabo", { attempts: 3, backoffMs: 10 });
  worker = createTargetWorker({
    target: "contabo",
    connection: conn,
    links,
    logger: createLogger({ level: "debug", write: (l) => logs.push(l) }),
    steps: {
      // A real call against the simulator: the failures come from it.
      user: async (id) => {
        await client.getUser(id);
        return { result: "read", changes: [] };
      },
      group: () => Promise.resolve({ result: "nothing", changes: [] }),
    },
  });
}, 30_000);

afterAll(async () => {
  await worker?.close();
  await queue?.close();
  await jobs?.close();
});

async function stateOf(key: string): Promise<{ state: string; attemptsMade: number }> {
  const jobs = await queue.getJobs(["delayed", "failed", "completed", "waiting", "active"]);
  const job = jobs.find((j) => j.data.id === key);
  if (!job) return { state: "none", attemptsMade: 0 };
  return { state: await job.getState(), attemptsMade: job.attemptsMade };
}

async function until(check: () => Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("createTargetWorker()", () => {
  it("a 429 with a long Retry-After delays the job by it, using no attempt and no worker slot", async () => {
    contabo.sim.failNext(1, 429, 60);
    const started = Date.now();
    await enqueueTargetSyncs([queue], ["user:slow"]);
    await until(async () => (await stateOf("slow")).state === "delayed");
    expect(Date.now() - started).toBeLessThan(5_000); // not slept inside the call
    const job = (await queue.getJobs(["delayed"])).find((j) => j.data.id === "slow")!;
    expect(job.attemptsMade).toBe(0);
    // BullMQ keeps the time it comes back as the job's delay from when it was moved.
    expect(job.timestamp + job.delay - Date.now()).toBeGreaterThan(50_000);
    expect((await links.get("user", "slow")).lastError).toMatch(/contabo 429 on GET/);
  });

  it("a permanent error fails the job at once and is recorded without a secret", async () => {
    contabo.sim.failNext(1, 400);
    await enqueueTargetSyncs([queue], ["user:bad"]);
    await until(async () => (await stateOf("bad")).state === "failed");
    expect((await stateOf("bad")).attemptsMade).toBe(1);
    const link = await links.get("user", "bad");
    expect(link).toMatchObject({ state: "failed" });
    expect(link.lastError).toMatch(/^contabo 400 on GET \/v1\/users\/\{userId\}/);
    const all = JSON.stringify(link) + logs.join("\n");
    for (
      const secret of [CONTABO_SIM_CREDENTIALS.clientSecret, CONTABO_SIM_CREDENTIALS.apiPassword]
    ) {
      expect(all).not.toContain(secret);
    }
  });

  it("a job for an unknown user completes (404 is an answer, not a failure)", async () => {
    await enqueueTargetSyncs([queue], ["user:fine"]);
    await until(async () => (await stateOf("fine")).state === "completed");
  });
});
