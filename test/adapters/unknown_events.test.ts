import { afterAll, beforeAll, expect, it } from "vitest";
import {
  countUnknownEvent,
  MAX_TYPES,
  readUnknownEventCounts,
} from "../../src/adapters/unknown_events.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => await redis.stop());

it("countUnknownEvent() keeps at most MAX_TYPES types and lumps the rest under (other)", async () => {
  const client = redis.client();
  for (let i = 0; i < MAX_TYPES + 20; i++) await countUnknownEvent(client, "workos", `t${i}`);
  await countUnknownEvent(client, "workos", "t0");
  const counts = await readUnknownEventCounts(client);
  expect(Object.keys(counts)).toHaveLength(MAX_TYPES + 1);
  expect(counts["workos:(other)"]).toBe(20);
  expect(counts["workos:t0"]).toBe(2);
});
