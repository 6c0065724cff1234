/**
 * One Cloudflare object never serves two IdP entities (model test, cloudflare seeds 16 and 32):
 * a user group found by name that another live IdP group holds is a conflict, not an adoption;
 * and an account whose holder's own sync is in conflict is a conflict, not an endless wait.
 */
import { describe, expect, it } from "vitest";
import { SyncConflictError } from "../../workers/errors.ts";
import {
  type CloudflareSyncContext,
  syncCloudflareGroup,
  syncCloudflareUser,
} from "../../workers/sync_cloudflare.ts";
import { CF_MEMBER_ROLE } from "../_support/targets.ts";
import { userEvent } from "../_support/harness.ts";
import { applyEvents as apply, cloudflareJobsForFile } from "../_support/target_jobs.ts";

const cf = cloudflareJobsForFile();

function context(prefix: string): CloudflareSyncContext {
  return cf.context(prefix, {
    targets: ["ionos", "cloudflare"],
    cloudflare: { memberRoles: [CF_MEMBER_ROLE], groups: { include: ["ops"] } },
  });
}

describe("Cloudflare ownership", () => {
  it("a user group another live IdP group holds under the same name is a conflict", async () => {
    const ctx = context("holders-g");
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
  });

  it("an account whose holder's own sync is in conflict is a conflict, not a wait", async () => {
    const ctx = context("holders-u");
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
  });
});
