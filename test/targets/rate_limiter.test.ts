import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../_support/redis.ts";
import {
  LocalRateLimiter,
  type RateLimiter,
  rateLimiterKey,
  RedisRateLimiter,
} from "../../src/targets/rate_limiter.ts";
import { IonosClient } from "../../src/targets/ionos/client.ts";
import { startIonosSimulator } from "../../src/targets/ionos/simulator/mod.ts";

/** Most admissions in any half-open window of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** Runs `workers` loops per limiter, each acquiring until `ms` has passed; returns admission times. */
async function hammer(limiters: RateLimiter[], workers: number, ms: number): Promise<number[]> {
  const times: number[] = [];
  const end = Date.now() + ms;
  const loop = async (l: RateLimiter) => {
    while (Date.now() < end) {
      await l.acquire();
      times.push(Date.now());
    }
  };
  await Promise.all(limiters.flatMap((l) => Array.from({ length: workers }, () => loop(l))));
  return times;
}

let redis: TestRedis;
let n = 0;
const freshKey = () => `test:rl:${Date.now()}:${n++}`;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe("RedisRateLimiter", () => {
  it("two instances on one key together stay within rate + burst in every 1 s window", async () => {
    const key = freshKey();
    const rate = 20;
    const burst = 2;
    const a = new RedisRateLimiter({ redis: redis.client(), key, requestsPerSecond: rate, burst });
    const b = new RedisRateLimiter({ redis: redis.client(), key, requestsPerSecond: rate, burst });
    const times = await hammer([a, b], 4, 2_500);
    // Times are taken when this process gets to run, not when Redis granted the slot: a test
    // process held up for a moment sees up to 5 slots late at once (the limiter's lateness
    // tolerance, max(250 ms, 5 slots)), so a busy machine may show that many more in a window.
    // Without the limit, or at twice the rate, far more pass.
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(rate + burst + 5);
    // ...and the steady stream does get through at about the configured rate.
    expect(times.length).toBeGreaterThanOrEqual(rate * 2.5 * 0.85);
  });

  it("a caller that wakes long after its reserved slot takes a new one: no burst after a hold-up", async () => {
    // 10/s: five callers reserve slots 100 ms apart, then the process is held up for 1.5 s
    // (what a long GC or a throttled container does; 1.5 s is past the tolerance of 5 slots). Used late, the five slots would all go
    // out at once; given up and reserved again, they are spread at the rate.
    const limiter = new RedisRateLimiter({
      redis: redis.client(),
      key: freshKey(),
      requestsPerSecond: 10,
    });
    await limiter.acquire(); // connected and warm; the bucket starts after this one
    const admitted: number[] = [];
    const callers = Array.from(
      { length: 5 },
      () => limiter.acquire().then(() => admitted.push(performance.now())),
    );
    await new Promise((r) => setTimeout(r, 20)); // the five reservations are made
    const until = performance.now() + 1500;
    while (performance.now() < until) { /* held up */ }
    await Promise.all(callers);
    expect(admitted).toHaveLength(5);
    expect(maxInWindow(admitted, 200)).toBeLessThanOrEqual(3);
  });

  it("pause() on one instance delays acquire() on the other", async () => {
    const key = freshKey();
    const a = new RedisRateLimiter({ redis: redis.client(), key, requestsPerSecond: 100 });
    const b = new RedisRateLimiter({ redis: redis.client(), key, requestsPerSecond: 100 });
    await b.acquire();
    // Timed from before the pause is asked: the pause runs from when Redis takes it, which a
    // busy machine may answer tens of milliseconds later (CI once measured 340 ms from after it).
    const started = Date.now();
    await a.pause(400);
    await b.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it("keeps working after Redis forgets its scripts", async () => {
    const client = redis.client();
    const l = new RedisRateLimiter({ redis: client, key: freshKey(), requestsPerSecond: 100 });
    await l.acquire();
    await client.script("FLUSH");
    await l.acquire();
    await l.pause(1);
  });

  it("rejects a bad configuration at construction", () => {
    const c = redis.client();
    expect(() => new RedisRateLimiter({ redis: c, key: "k", requestsPerSecond: 0 })).toThrow(
      RangeError,
    );
    expect(() => new RedisRateLimiter({ redis: c, key: "k", requestsPerSecond: 1, burst: 0 }))
      .toThrow(RangeError);
  });
});

describe("IonosClient with RedisRateLimiter", () => {
  it("two workers sharing a key stay under the IONOS limit without a single 429", async () => {
    const { url, sim, close } = await startIonosSimulator({
      token: "t-1",
      rateLimitPerSecond: 12,
      rateLimitBurst: 3,
    });
    try {
      const u = sim.state.addUser({ firstname: "A", lastname: "B", email: "a@example.com" });
      const key = await rateLimiterKey(url, { token: "t-1" });
      const workers = [1, 2].map(() =>
        new IonosClient({
          baseUrl: url,
          auth: { token: "t-1" },
          rateLimiter: new RedisRateLimiter({ redis: redis.client(), key, requestsPerSecond: 10 }),
        })
      );
      const end = Date.now() + 1_500;
      let calls = 0;
      await Promise.all(workers.flatMap((w) =>
        [1, 2, 3].map(async () => {
          while (Date.now() < end) {
            expect((await w.getUser(u.id))?.id).toBe(u.id);
            calls++;
          }
        })
      ));
      expect(sim.stats().rateLimited).toBe(0);
      expect(sim.stats().maxAcceptedPerSecond).toBeLessThanOrEqual(11);
      expect(calls).toBeGreaterThanOrEqual(12);
    } finally {
      await close();
    }
  });
});

describe("LocalRateLimiter", () => {
  it("stays within rate + burst in every 1 s window", async () => {
    const l = new LocalRateLimiter({ requestsPerSecond: 30, burst: 3 });
    const times = await hammer([l], 5, 1_500);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(33);
    expect(times.length).toBeGreaterThanOrEqual(30 * 1.5 * 0.85);
  });

  it("with an infinite rate only honours pause()", async () => {
    const l = new LocalRateLimiter({ requestsPerSecond: Infinity });
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++) await l.acquire();
    expect(Date.now() - t0).toBeLessThan(200);
    await l.pause(150);
    const t1 = Date.now();
    await l.acquire();
    expect(Date.now() - t1).toBeGreaterThanOrEqual(140);
  });
});

describe("rateLimiterKey()", () => {
  it("is stable per URL and identity and never contains the secret", async () => {
    const token = "tok-SECRET-123456";
    const k1 = await rateLimiterKey("https://api.ionos.com/cloudapi/v6/", { token });
    const k2 = await rateLimiterKey("https://api.ionos.com/cloudapi/v6", { token });
    const k3 = await rateLimiterKey("https://api.ionos.com/cloudapi/v6", { token: "other" });
    const k4 = await rateLimiterKey("https://api.ionos.com/cloudapi/v6", {
      username: "ops@example.com",
      password: "pw-SECRET",
    });
    expect(k1).toBe(k2);
    expect(k1).not.toBe(k3);
    expect(k1).toMatch(/^ionos:rl:[0-9a-f]{64}$/);
    for (const k of [k1, k4]) {
      expect(k).not.toContain("SECRET");
      expect(k).not.toContain("ops@");
    }
  });
});

describe("learning the contract's limit from X-RateLimit-Limit", () => {
  it("LocalRateLimiter takes the lower of the configured and the learned rate", () => {
    const l = new LocalRateLimiter({ requestsPerSecond: 10 });
    l.observe({ perMinute: 300 });
    expect(l.requestsPerSecond).toBe(5);
    l.observe({ perMinute: 60_000 }); // the configured rate stays an upper bound
    expect(l.requestsPerSecond).toBe(10);
    l.observe({ perMinute: Number.NaN });
    expect(l.requestsPerSecond).toBe(10);
  });

  it("an IonosClient configured far above the contract's limit gets no 429", async () => {
    const { url, sim, close } = await startIonosSimulator({
      token: "t-2",
      rateLimitPerSecond: 20, // X-RateLimit-Limit: 1200
      rateLimitBurst: 2,
    });
    try {
      const u = sim.state.addUser({ firstname: "A", lastname: "B", email: "a@example.com" });
      const limiter = new LocalRateLimiter({ requestsPerSecond: 1000 });
      const ionos = new IonosClient({ baseUrl: url, auth: { token: "t-2" }, rateLimiter: limiter });
      await ionos.getUser(u.id); // the first answer teaches the limit
      expect(limiter.requestsPerSecond).toBe(20);
      await Promise.all([1, 2, 3, 4].map(async () => {
        for (let i = 0; i < 10; i++) await ionos.getUser(u.id);
      }));
      expect(sim.stats().total).toBe(41);
      expect(sim.stats().rateLimited).toBe(0);
    } finally {
      await close();
    }
  });

  it("RedisRateLimiter shares a learned limit with every process on the key", async () => {
    const key = freshKey();
    const a = new RedisRateLimiter({ redis: redis.client(), key, requestsPerSecond: 1000 });
    const b = new RedisRateLimiter({ redis: redis.client(), key, requestsPerSecond: 1000 });
    a.observe({ perMinute: 600 }); // 10 per second
    const client = redis.client();
    for (let i = 0; i < 50 && !(await client.get(`{${key}}:limit`)); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const t0 = Date.now();
    for (let i = 0; i < 6; i++) await b.acquire();
    // 1000/s would pass six in a few ms; the learned 10/s spaces them 100 ms apart.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
  });
});
