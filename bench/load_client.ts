/**
 * The load generator, in its own process: autocannon with a fixed number of connections, a
 * warm-up that is not measured, then the measured run. Prints one JSON line.
 */
import autocannon from "autocannon";
import { scriptConfig } from "./lib/child.ts";
import { type BodyKind, bodyMaker } from "./lib/payloads.ts";

export interface LoadConfig {
  url: string;
  path: string;
  connections: number;
  warmupSec: number;
  durationSec: number;
  body: BodyKind;
  headers: Record<string, string>;
  /** Prefix for ids, unique per run. */
  tag: string;
}

export interface LoadResult {
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** The part of autocannon's result we read (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function run(config: LoadConfig, seconds: number, tag: string): Promise<AutocannonResult> {
  const next = bodyMaker(config.body, tag);
  const run = autocannon as unknown as (o: unknown) => Promise<AutocannonResult>;
  return await run({
    url: config.url,
    connections: config.connections,
    duration: seconds,
    requests: [{
      method: "POST",
      path: config.path,
      headers: config.headers,
      setupRequest: (req: Record<string, unknown>) => ({ ...req, body: next() }),
    }],
  });
}

if (import.meta.main) {
  const config = scriptConfig<LoadConfig>();
  if (config.warmupSec > 0) await run(config, config.warmupSec, `${config.tag}w`);
  const r = await run(config, config.durationSec, config.tag);
  const result: LoadResult = {
    requestsPerSec: r.requests.average,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMeanMs: r.latency.average,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
  console.log(JSON.stringify(result));
}
