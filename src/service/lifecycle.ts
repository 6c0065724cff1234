/**
 * Start-up and shutdown steps the roles share: waiting for Redis, binding the listener early,
 * and running stop steps in order with BullMQ's closes bounded.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/config.ts";
import { listen, type Listener } from "../http/serve.ts";
import type { Logger } from "../log.ts";

/** One step of a shutdown. */
export type Stop = () => Promise<void> | void;

/** How long a forced worker close, or a queue's close, may take at shutdown. */
export const FORCED_CLOSE_MS = 2_000;

/** Waits for `promise`, or `ms`; "timeout" when the time ran out first. */
export async function within(promise: Promise<unknown>, ms: number): Promise<"done" | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), ms);
  });
  const settled = promise.then(() => "done" as const);
  // Failing after the time ran out is no longer the caller's concern (nor an unhandled rejection).
  settled.catch(() => {});
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `stops` one after the other, first to last. */
export async function inOrder(stops: Stop[]): Promise<void> {
  for (const s of stops) await s();
}

/**
 * Waits until Redis answers, or until `signal` aborts (a SIGTERM during start-up).
 * @throws {DOMException} AbortError when `signal` aborts first
 */
export async function waitReady(redis: Redis, logger: Logger, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => logger.warn("waiting for Redis", { error: e.message });
    const onAbort = () => {
      redis.off("error", onError);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    redis.on("error", onError);
    redis.once("ready", () => {
      signal?.removeEventListener("abort", onAbort);
      redis.off("error", onError);
      redis.on("error", (e: Error) => logger.warn("redis error", { error: e.message }));
      resolve();
    });
  });
}

/** Binds `port` at once, so /healthz answers while Redis is still being waited for. */
export function bindEarly(port: number, config: Config, logger: Logger): Listener {
  const http = listen({
    port,
    hostname: config.host,
    logger,
    headerTimeoutMs: config.headerTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
  });
  logger.info("listening", { bound: `${config.host}:${http.port}`, url: http.url });
  return http;
}
