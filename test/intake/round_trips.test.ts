/**
 * Issue 9: an accepted request costs two Redis round trips, counted on the wire by a proxy
 * between the intake (`--role api` wiring) and Redis: the store script, then one transaction
 * with the job adds, the outbox clean-up and the event-log append. What each trip promises is
 * checked too: the state is stored, the job queued, the outbox empty, the event logged with it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { DEFAULT_MAPPING } from "../../src/config/mapping.ts";
import { silentLogger } from "../../src/log.ts";
import { type Service, startService } from "../../src/service.ts";
import { EVENTS_TOKEN, userEvent } from "../_support/harness.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";
import { type RoundTripProxy, startRoundTripProxy } from "../_support/round_trip_proxy.ts";

let redis: TestRedis;
let proxy: RoundTripProxy;
let service: Service;

beforeAll(async () => {
  redis = await startRedis();
  proxy = await startRoundTripProxy(redis.port);
  const env = { REDIS_URL: proxy.url, EVENTS_TOKEN, PORT: "0", HOST: "127.0.0.1" };
  service = await startService(loadConfig(env, "api"), DEFAULT_MAPPING, silentLogger);
  // Scripts cross the wire in full once per connection; warm that up outside the counts.
  await post(userEvent("user.created", "warm-up", "warm.up@example.com"));
});
afterAll(async () => {
  await service?.stop();
  await proxy?.stop();
  await redis?.stop();
});

async function post(body: unknown): Promise<{ status: number; trips: number; commands: string[] }> {
  const trips = proxy.trips();
  const commands = proxy.commands().length;
  const res = await fetch(`${service.url}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${EVENTS_TOKEN}` },
    body: JSON.stringify(body),
  });
  await res.body?.cancel();
  return {
    status: res.status,
    trips: proxy.trips() - trips,
    commands: proxy.commands().slice(commands),
  };
}

describe("intake round trips", () => {
  it("answers one event after two: the store script, then one MULTI with add, clean-up and log", async () => {
    const r = await post(userEvent("user.created", "rt-one", "rt.one@example.com"));
    expect(r.status).toBe(202);
    expect(r.trips).toBe(2);
    expect(r.commands[0]).toMatch(/^EVAL/);
    expect(r.commands.slice(1, 2)).toEqual(["MULTI"]);
    expect(r.commands.at(-1)).toBe("EXEC");

    const probe = redis.client();
    expect(JSON.parse((await probe.get("sync:user:rt-one"))!)).toMatchObject({
      email: "rt.one@example.com",
    });
    const jobId = await probe.get("bull:ionos-sync:de:user:rt-one");
    expect(jobId).toBeTruthy();
    expect(await probe.lrange("bull:ionos-sync:wait", 0, -1)).toContain(jobId);
    expect(await probe.zscore("sync:outbox", "user:rt-one")).toBeNull();
    expect(await probe.exists("sync:outbox:add-mark")).toBe(0);
    const [logId] = await probe.lrange("sync:eventlog:entity:user:rt-one", 0, 0);
    const [row] = await probe.xrange("sync:eventlog", logId!, logId!);
    const fields = row![1];
    expect(fields[fields.indexOf("job") + 1]).toBe(jobId);
  });

  it("answers 100 events after two as well", async () => {
    const events = Array.from(
      { length: 100 },
      (_, i) => userEvent("user.created", `rt-batch-${i}`, `rt.batch${i}@example.com`),
    );
    const r = await post({ events });
    expect(r.status).toBe(202);
    expect(r.trips).toBe(2);
    const probe = redis.client();
    expect(await probe.zcard("sync:outbox")).toBe(0);
    expect(await probe.exists("bull:ionos-sync:de:user:rt-batch-99")).toBe(1);
  });

  it("answers a redelivery after one: nothing to enqueue or log", async () => {
    const event = userEvent("user.created", "rt-dup", "rt.dup@example.com");
    expect((await post(event)).trips).toBe(2);
    const again = await post(event);
    expect(again.status).toBe(202);
    expect(again.trips).toBe(1);
  });
});
