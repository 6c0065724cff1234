/**
 * One Cloudflare object never serves two IdP entities (model test, cloudflare seeds 16 and 32):
 * a user group found by name that another live IdP group holds is a conflict, not an adoption;
 * and an account whose holder's own sync is in conflict is a conflict, not an endless wait.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMapping } from "../../src/config/mapping.ts";
import { parseEventBatch } from "../../src/events/event.ts";
import { silentLogger } from "../../src/log.ts";
import { createTargetQueue } from "../../src/queue/target_queue.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { CloudflareClient } from "../../src/targets/cloudflare/client.ts";
import {
  CLOUDFLARE_SIM_ACCOUNT,
  CLOUDFLARE_SIM_TOKEN,
} from "../../src/targets/cloudflare/simulator/app.ts";
import {
  type RunningCloudflareSimulator,
  startCloudflareSimulator,
} from "../../src/targets/cloudflare/simulator/server.ts";
import { TargetLinks } from "../../src/targets/links.ts";
import { SyncConflictError } from "../../workers/errors.ts";
import { syncCloudflareGroup, syncCloudflareUser } from "../../workers/sync_cloudflare.ts";
import { CF_MEMBER_ROLE } from "../_support/targets.ts";
import { userEvent } from "../_support/harness.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
let conn: Redis;
let cf: RunningCloudflareSimulator;

beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  cf = await startCloudflareSimulator();
}, 30_000);
afterAll(async () => {
  conn?.disconnect();
  await cf?.close();
  await redis?.stop();
});

function context(prefix: string) {
  const store = new WantedStateStore(conn, { prefix });
  const client = new CloudflareClient({
    apiUrl: cf.url,
    apiToken: CLOUDFLARE_SIM_TOKEN,
    accountId: CLOUDFLARE_SIM_ACCOUNT,
    baseDelayMs: 1,
  });
  const queue = createTargetQueue(conn, "cloudflare");
  const mapping = parseMapping(JSON.stringify({
    targets: ["ionos", "cloudflare"],
    cloudflare: { memberRoles: [CF_MEMBER_ROLE], groups: { include: ["ops"] } },
  }));
  const links = new TargetLinks(conn, "cloudflare", { prefix });
  return { store, links, mapping, client, queue, logger: silentLogger };
}

async function apply(store: WantedStateStore, body: unknown) {
  const parsed = parseEventBatch(body);
  if (!parsed.success) throw new Error("bad test event");
  await store.applyEvents(parsed.events);
}

describe("Cloudflare ownership", () => {
  it("a user group another live IdP group holds under the same name is a conflict", async () => {
    const ctx = context("holders-g");
    try {
      for (const id of ["g-a", "g-b"]) {
        await apply(ctx.store, {
          id: `ev-${id}`,
          type: "group.created",
          data: { id, displayName: "ops" },
        });
      }
      const made = await ctx.client.createUserGroup({ name: "ops", policies: [] });
      await ctx.links.link("group", "g-b", made.id, "created");
      const error = await syncCloudflareGroup(ctx, "g-a").catch((e) => e);
      expect(error).toBeInstanceOf(SyncConflictError);
      expect(await ctx.links.holderOf("group", made.id)).toBe("g-b");
      expect((await ctx.links.get("group", "g-a")).targetId).toBeUndefined();
    } finally {
      await ctx.queue.close();
    }
  });

  it("an account whose holder's own sync is in conflict is a conflict, not a wait", async () => {
    const ctx = context("holders-u");
    try {
      // u-b holds the member of old@ but wants another address now; its own sync cannot move
      // the member (adopted: a person must act) and is in conflict.
      await apply(ctx.store, userEvent("user.created", "u-b", "new@example.com"));
      await apply(ctx.store, userEvent("user.created", "u-a", "old@example.com"));
      const member = cf.sim.addMember("old@example.com");
      await ctx.links.link("user", "u-b", member.id, "adopted");
      await ctx.links.record("user", "u-b", { state: "conflict", result: "conflict" });
      const error = await syncCloudflareUser(ctx, "u-a").catch((e) => e);
      expect(error).toBeInstanceOf(SyncConflictError);
      expect(await ctx.links.holderOf("user", member.id)).toBe("u-b");
    } finally {
      await ctx.queue.close();
    }
  });
});
