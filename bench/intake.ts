/**
 * Intake throughput and latency: `POST /events` (one event, and 100 per request) and SCIM
 * `POST /Users` on the real intake process, each beside its baselines from the same run: a
 * bare Hono handler on the same runtime, and BullMQ `add` / `addBulk` on the same Redis.
 */
import { freePort } from "../test/_support/redis.ts";
import type { QueueConfig, QueueResult } from "./bullmq_baseline.ts";
import { runScript, startScript } from "./lib/child.ts";
import { measureCpu } from "./lib/cpu.ts";
import {
  EVENTS_TOKEN,
  type IntakeLoadOptions,
  SCIM_TOKEN,
  spawnIntake,
} from "./lib/intake_service.ts";
import { BATCH_SIZE, type BodyKind } from "./lib/payloads.ts";
import type { LoadConfig, LoadResult } from "./load_client.ts";

export interface IntakeRun extends LoadResult {
  /** Events (or SCIM users) per second: requests/s times events per request. */
  eventsPerSec: number;
  /** CPU seconds per second of the server process and of Redis (1 = one core busy). */
  cpu: Record<string, number>;
}

export interface QueueRun extends QueueResult {
  /** CPU seconds per second of Redis. */
  cpu: Record<string, number>;
}

export interface IntakeResults {
  connections: number;
  durationSec: number;
  bareHono: { single: IntakeRun; batch: IntakeRun };
  intake: { single: IntakeRun; batch: IntakeRun; scimUsers?: IntakeRun };
  bullmq: { add: QueueRun; addBulk: QueueRun };
  /** Peak RSS (VmHWM) of the intake process over these runs, bytes. */
  intakePeakRss: number;
}

export async function benchIntake(o: IntakeLoadOptions): Promise<IntakeResults> {
  let run = 0;
  const redisPid = Number(/process_id:(\d+)/.exec(await o.redis.info("server"))?.[1]);
  const load = async (
    serverPid: number,
    url: string,
    path: string,
    body: BodyKind,
    headers: Record<string, string>,
  ): Promise<IntakeRun> => {
    await o.redis.flushall();
    const config: LoadConfig = {
      url,
      path,
      connections: o.connections,
      warmupSec: o.warmupSec,
      durationSec: o.durationSec,
      body,
      headers: { "content-type": "application/json", ...headers },
      tag: `r${run++}`,
    };
    const { result: r, cpu } = await measureCpu(
      { server: serverPid, redis: redisPid },
      () => runScript<LoadResult>("load_client.ts", config),
      () => o.warmupSec + o.durationSec,
    );
    const perRequest = body === "batch" ? BATCH_SIZE : 1;
    o.log(
      `  ${path} ${body}: ${r.requestsPerSec.toFixed(0)} req/s, p50 ${r.latencyP50Ms} ms, ` +
        `p99 ${r.latencyP99Ms} ms, non-2xx ${r.non2xx}, errors ${r.errors}, ` +
        `CPU server ${cpu.server} redis ${cpu.redis}`,
    );
    return { ...r, eventsPerSec: r.requestsPerSec * perRequest, cpu };
  };

  o.log("bare Hono handler (baseline)");
  const port = await freePort();
  const bare = await startScript("baseline_server.ts", { port });
  const bareUrl = `http://127.0.0.1:${port}`;
  const bareHono = {
    single: await load(bare.pid, bareUrl, "/events", "event", {}),
    batch: await load(bare.pid, bareUrl, "/events", "batch", {}),
  };
  await bare.stop();

  o.log("intake (src/main.ts --role api)");
  const api = await spawnIntake(o.redisUrl);
  const bearer = { authorization: `Bearer ${EVENTS_TOKEN}` };
  const intake: IntakeResults["intake"] = {
    single: await load(api.pid, api.url!, "/events", "event", bearer),
    batch: await load(api.pid, api.url!, "/events", "batch", bearer),
  };
  if (await scimMounted(api.url!)) {
    intake.scimUsers = await load(api.pid, api.url!, "/scim/v2/Users", "scim-user", {
      authorization: `Bearer ${SCIM_TOKEN}`,
      "content-type": "application/scim+json",
    });
  } else {
    o.log("  SCIM not mounted: skipped");
  }
  const intakePeakRss = api.memory()?.peakRss ?? 0;
  await api.kill("SIGTERM");

  o.log("BullMQ on the same Redis (baseline)");
  const queue = async (jobsPerCall: number) => {
    await o.redis.flushall();
    const config: QueueConfig = {
      redisUrl: o.redisUrl,
      jobsPerCall,
      concurrency: o.connections,
      warmupSec: o.warmupSec,
      durationSec: o.durationSec,
      tag: `q${run++}`,
    };
    const { result, cpu } = await measureCpu(
      { redis: redisPid },
      () => runScript<QueueResult>("bullmq_baseline.ts", config),
      () => o.warmupSec + o.durationSec,
    );
    const r = { ...result, cpu };
    o.log(
      `  ${jobsPerCall === 1 ? "add" : `addBulk(${jobsPerCall})`}: ${r.callsPerSec.toFixed(0)}` +
        ` calls/s, p50 ${r.latencyP50Ms.toFixed(1)} ms, p99 ${r.latencyP99Ms.toFixed(1)} ms, ` +
        `CPU redis ${cpu.redis}`,
    );
    return r;
  };
  const bullmq = { add: await queue(1), addBulk: await queue(BATCH_SIZE) };
  await o.redis.flushall();
  return {
    connections: o.connections,
    durationSec: o.durationSec,
    bareHono,
    intake,
    bullmq,
    intakePeakRss,
  };
}

/** True if the intake serves SCIM (it does when SCIM_TOKEN is set and the code is there). */
async function scimMounted(url: string): Promise<boolean> {
  const res = await fetch(`${url}/scim/v2/ServiceProviderConfig`, {
    headers: { authorization: `Bearer ${SCIM_TOKEN}` },
  });
  await res.body?.cancel();
  return res.ok;
}
