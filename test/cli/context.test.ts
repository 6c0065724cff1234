/**
 * The CLI builds its parts as the service does (src/service/parts.ts): a replay from the CLI
 * must change the wanted state exactly as the intake would, and a bad SYNC_CONFIG is refused
 * like a bad environment.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openContext } from "../../src/cli/context.ts";
import { MappingError } from "../../src/config/mapping.ts";
import type { SyncEvent } from "../../src/events/event.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
let dir: string;
beforeAll(async () => {
  redis = await startRedis();
  dir = await Deno.makeTempDir({ prefix: "cli-context-" });
  await Deno.writeTextFile(`${dir}/sync.yaml`, `administrators: ["ionos-admins"]\n`);
});
afterAll(async () => {
  await redis.stop();
  await Deno.remove(dir, { recursive: true });
});

describe("openContext()", () => {
  it("openContext() gives a store that knows the mapping's administrators groups", async () => {
    const ctx = await openContext({ REDIS_URL: redis.url, SYNC_CONFIG: `${dir}/sync.yaml` });
    try {
      const result = await ctx.store.applyEvents([{
        id: "e-admins",
        type: "group.created",
        data: { id: "g-admins", displayName: "ionos-admins", members: [{ value: "u1" }] },
      } as SyncEvent]);
      // The member's administrator flag changes with it, so it is synced too (as via the intake).
      expect(result.entities.sort()).toEqual(["group:g-admins", "user:u1"]);
      expect((await ctx.mapping()).administrators).toEqual(["ionos-admins"]);
    } finally {
      await ctx.close();
    }
  });

  it("openContext() refuses an unreadable SYNC_CONFIG with a MappingError", async () => {
    await expect(openContext({ REDIS_URL: redis.url, SYNC_CONFIG: `${dir}/missing.yaml` }))
      .rejects.toBeInstanceOf(MappingError);
  });
});
