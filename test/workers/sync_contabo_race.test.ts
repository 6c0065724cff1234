/**
 * A Contabo create that races with another account taking the email (another job moved an email
 * to it, or a person made it between the look-up and the create): Contabo answers 409, and the
 * job must wait and look again, not fail for good (found by the model test, contabo seed 1).
 */
import { describe, expect, it } from "vitest";
import { SyncConflictError, WaitingForDependencyError } from "../../workers/errors.ts";
import { type ContaboSyncContext, syncContaboUser } from "../../workers/sync_contabo.ts";
import { userEvent } from "../_support/harness.ts";
import { applyEvents, contaboJobsForFile } from "../_support/target_jobs.ts";

const contabo = contaboJobsForFile();

/** A sync context on its own prefix, its IdP users stored. */
async function contextWith(
  prefix: string,
  users: [id: string, email: string][],
): Promise<ContaboSyncContext> {
  const ctx = contabo.context(prefix, { targets: ["ionos", "contabo"] });
  for (const [id, email] of users) {
    await applyEvents(ctx.store, userEvent("user.created", id, email));
  }
  return ctx;
}

describe("syncContaboUser()", () => {
  it("waits and looks again when the email was taken between its look-up and its create", async () => {
    const ctx = await contextWith("race", [["u-race", "race@example.com"]]);
    // The look-up finds nothing; right after it, the email is taken.
    const lookUp = ctx.client.findUserByEmail.bind(ctx.client);
    ctx.client.findUserByEmail = async (email: string) => {
      const found = await lookUp(email);
      contabo.sim.addUser({ email: "race@example.com" });
      return found;
    };
    const error = await syncContaboUser(ctx, "u-race").catch((e) => e);
    expect(error).toBeInstanceOf(WaitingForDependencyError);
    // The create was refused: no creating mark is left to mistake the other account for ours.
    expect((await ctx.links.get("user", "u-race")).creating).toBeFalsy();
  });

  it("after a lost create, takes no account another IdP user holds for its own", async () => {
    // u-a's create was not applied (a 5xx before the write); meanwhile u-b's job made a user
    // with the same address. u-a's retry must not take it as the one its create made (model
    // test, contabo seed 36: one account bound to two IdP users).
    const ctx = await contextWith("lost", [["u-a", "same@example.com"], [
      "u-b",
      "same@example.com",
    ]]);
    const made = contabo.sim.addUser({ email: "same@example.com" });
    await ctx.links.link("user", "u-b", made.userId, "created");
    await ctx.links.markCreating("user", "u-a", "same@example.com");
    const error = await syncContaboUser(ctx, "u-a").catch((e) => e);
    // Two live IdP users want one address: a person must act; the account stays u-b's.
    expect(error).toBeInstanceOf(SyncConflictError);
    expect(await ctx.links.holderOf("user", made.userId)).toBe("u-b");
    const a = await ctx.links.get("user", "u-a");
    expect(a.targetId).toBeUndefined();
    expect(a.creating).toBeFalsy();
  });

  it("waits and reads again when its user was deleted between the read and the update", async () => {
    const ctx = await contextWith("gone", [["u-g", "gone@example.com"]]);
    // Ours, but out of step (disabled): the job will PATCH it.
    const made = contabo.sim.addUser({ email: "gone@example.com", enabled: false });
    await ctx.links.link("user", "u-g", made.userId, "created");
    const read = ctx.client.getUser.bind(ctx.client);
    ctx.client.getUser = async (id: string) => {
      const user = await read(id);
      await ctx.client.deleteUser(id); // deleted right after the job read it
      return user;
    };
    const error = await syncContaboUser(ctx, "u-g").catch((e) => e);
    expect(error).toBeInstanceOf(WaitingForDependencyError);
  });
});
