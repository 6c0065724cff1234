/**
 * The intake (`src/main.ts --role api`, in its own process) as the benchmarks that load it run
 * it (`intake.ts`, `redis_scripts.ts`): its tokens, its start, and the options of such a run.
 */
import type { Redis } from "ioredis";
import { type ServiceProcess, spawnService } from "../../test/_support/service_process.ts";

export const EVENTS_TOKEN = "bench-events-token-0123456789";
export const SCIM_TOKEN = "bench-scim-token-0123456789";

/** What a benchmark that loads the intake is given by `bench/main.ts`. */
export interface IntakeLoadOptions {
  redisUrl: string;
  /** For FLUSHALL before each run, so each starts from an empty Redis. */
  redis: Redis;
  connections: number;
  warmupSec: number;
  durationSec: number;
  log: (line: string) => void;
}

/**
 * Starts the intake on `redisUrl` with the events and SCIM tokens. Its stdout (info logs) goes
 * to /dev/null, so the intake spends no CPU on a reader of its log lines.
 */
export function spawnIntake(redisUrl: string): Promise<ServiceProcess> {
  return spawnService("api", {
    env: { REDIS_URL: redisUrl, EVENTS_TOKEN, SCIM_TOKEN },
    discardStdout: true,
  });
}
