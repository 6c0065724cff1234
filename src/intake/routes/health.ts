/** `GET /healthz` (the process is alive) and `GET /readyz` (Redis answers). */
import { Hono } from "hono";
import type { Redis } from "ioredis";

export interface HealthOptions {
  redis: Redis;
  /** Extra readiness facts (e.g. when IONOS last answered); merged into the /readyz body. */
  readiness?: (() => Record<string, unknown>) | undefined;
}

export function healthRoutes(options: HealthOptions): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const extra = options.readiness?.() ?? {};
    try {
      await withTimeout(options.redis.ping(), 2000);
      return c.json({ status: "ready", redis: "ok", ...extra });
    } catch (error) {
      return c.json(
        { status: "not ready", redis: `unreachable: ${(error as Error).message}`, ...extra },
        503,
      );
    }
  });
  return app;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), ms)),
  ]);
}
