/**
 * Production entry: `deno task start [--role api|worker|all]`.
 * Reads the environment once, refuses to start with one line per problem, stops cleanly on
 * SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig, type Role } from "./config/config.ts";
import { loadMapping, MappingError } from "./config/mapping.ts";
import { createLogger } from "./log.ts";
import { type Service, startService } from "./service.ts";
import { assertTargetSettings } from "./targets/settings.ts";

const ROLES = ["api", "worker", "all"] as const;

/** Parses `--role X` / `--role=X`; @throws {ConfigError} for anything else. */
export function parseRole(args: string[]): Role {
  let role: string = "all";
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--role") role = args[++i] ?? "";
    else if (a.startsWith("--role=")) role = a.slice(7);
    else throw new ConfigError([`unknown argument "${a}" (use --role api|worker|all)`]);
  }
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new ConfigError([`--role: must be one of api, worker, all (got "${role}")`]);
  }
  return role as Role;
}

export interface RunOptions {
  /** Runs after the service has stopped on a signal, before exit (dev: stop embedded Redis). */
  afterStop?: () => Promise<void> | void;
}

/**
 * Starts the service and stops it cleanly on SIGTERM/SIGINT.
 *
 * The signal listeners are installed before anything is awaited: a signal that arrives while
 * the service still waits for Redis aborts the start-up and exits 0, instead of the runtime's
 * default (as PID 1 without an init, Deno crashed with exit 139 there).
 *
 * @throws {ConfigError | MappingError} when the configuration is not valid
 */
export async function run(
  args: string[],
  env: Record<string, string>,
  options: RunOptions = {},
): Promise<Service> {
  const role = parseRole(args);
  const config = loadConfig(env, role);
  const logger = createLogger({ level: config.logLevel, fields: { role } });
  const aborter = new AbortController();
  // Filled in right after the listeners are installed; a signal can only be handled later.
  const started: { promise?: Promise<Service> } = {};
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    aborter.abort(new DOMException(`${signal} during start-up`, "AbortError"));
    // A Redis that is gone must not keep the process alive: exit after a bounded wait anyway.
    const limit = config.shutdownTimeoutMs + 5_000;
    const timer = setTimeout(() => {
      logger.warn("shutdown took too long; exiting", { limitMs: limit });
      Deno.exit(1);
    }, limit);
    // A start-up cut short has already undone itself (startService cleans up on abort).
    const service = await started.promise?.catch(() => undefined);
    await service?.stop();
    await options.afterStop?.();
    clearTimeout(timer);
    logger.info("stopped");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));

  const starting = started.promise = (async () => {
    const mapping = await loadMapping(config.syncConfigPath);
    assertTargetSettings(config, mapping, role);
    logger.info("mapping in force", {
      source: config.syncConfigPath ?? "defaults (SYNC_CONFIG not set)",
      mapping,
    });
    return await startService(config, mapping, logger, { signal: aborter.signal });
  })();
  try {
    return await starting;
  } catch (error) {
    // The signal handler owns the exit now; returning or throwing here would race it.
    if (stopping) return await new Promise<never>(() => {});
    throw error;
  }
}

if (import.meta.main) {
  try {
    await run(Deno.args, Deno.env.toObject());
  } catch (error) {
    if (error instanceof ConfigError || error instanceof MappingError) {
      console.error("refusing to start:");
      for (const p of error.problems) console.error(`  ${p}`);
      Deno.exit(2);
    }
    throw error;
  }
}
