/**
 * The one place the service is wired: for `config.role`, the HTTP intake (`api`, built in
 * src/service/intake.ts), the sync workers (`worker`, src/service/workers.ts), or both (`all`,
 * sharing one metrics registry); and their stop, in order, on shutdown. How each part is made
 * from the configuration (also for the CLI) is src/service/parts.ts.
 */
import type { Hono } from "hono";
import type { Config } from "./config/config.ts";
import type { Mapping } from "./config/mapping.ts";
import type { Logger } from "./log.ts";
import { startIntake } from "./service/intake.ts";
import type { Stop } from "./service/lifecycle.ts";
import { createObservability } from "./service/observability.ts";
import { startWorkers } from "./service/workers.ts";

export interface Service {
  /** The HTTP app, when the role serves HTTP. */
  app?: Hono;
  /** Where the HTTP server listens, once started. */
  url?: string;
  /** Stops accepting requests, lets active jobs finish (bounded), closes Redis. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startService}. */
export interface StartOptions {
  /** Aborting it (a signal during start-up) stops waiting, undoes what started, and rejects. */
  signal?: AbortSignal;
}

/**
 * Starts the service for `config.role`.
 *
 * @example
 * const service = await startService(loadConfig(Deno.env.toObject(), "all"), mapping, logger);
 * Deno.addSignalListener("SIGTERM", () => service.stop());
 */
export async function startService(
  config: Config,
  mapping: Mapping,
  logger: Logger,
  options: StartOptions = {},
): Promise<Service> {
  const stops: Stop[] = [];
  try {
    return await startParts(config, mapping, logger, options.signal, stops);
  } catch (error) {
    // Undo what did start (listener, Redis clients), newest first, then report the failure.
    for (const s of [...stops].reverse()) await Promise.resolve(s()).catch(() => {});
    throw error;
  }
}

async function startParts(
  config: Config,
  mapping: Mapping,
  logger: Logger,
  signal: AbortSignal | undefined,
  stops: Stop[],
): Promise<Service> {
  // One registry, IONOS health and call counter per process: role `all` reports both halves.
  const deps = { config, mapping, logger, obs: createObservability(), signal, stops };
  // The intake pushes its stop and the workers put theirs first, so stopping (newest first)
  // runs the intake's, then the workers'.
  const intake = config.role !== "worker" ? await startIntake(deps) : undefined;
  if (config.role !== "api") await startWorkers(deps);

  let stopping: Promise<void> | undefined;
  return {
    ...(intake ? { app: intake.app, url: intake.url } : {}),
    stop() {
      stopping ??= (async () => {
        // HTTP first (no new work), then workers, then Redis.
        for (const s of [...stops].reverse()) await s();
      })();
      return stopping;
    },
  };
}
