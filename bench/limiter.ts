/**
 * The shared IONOS rate limiter on its own: how many `acquire()` per second it grants against
 * its configured rate, with 1, 4 and 16 callers waiting. Isolates the limiter's share of the
 * gap between the configured rate and what the sync achieves.
 */
import type { Redis } from "ioredis";
import { RedisRateLimiter } from "../src/targets/rate_limiter.ts";

export interface LimiterRun {
  ratePerSec: number;
  callers: number;
  grantedPerSec: number;
}

export async function benchLimiter(
  redis: Redis,
  ratePerSec: number,
  callers: number[],
  seconds: number,
): Promise<LimiterRun[]> {
  const out: LimiterRun[] = [];
  for (const n of callers) {
    const limiter = new RedisRateLimiter({
      redis,
      key: `bench:limiter:${ratePerSec}:${n}:${Date.now()}`,
      requestsPerSecond: ratePerSec,
    });
    let granted = 0;
    const end = Date.now() + seconds * 1000;
    await Promise.all(Array.from({ length: n }, async () => {
      while (Date.now() < end) {
        await limiter.acquire();
        // Grants that land after the end belong to no second of the window.
        if (Date.now() < end) granted++;
      }
    }));
    out.push({ ratePerSec, callers: n, grantedPerSec: granted / seconds });
  }
  return out;
}
