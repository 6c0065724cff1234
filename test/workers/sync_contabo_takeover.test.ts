/**
 * A Contabo user that passes from an IdP user deleted at the IdP to the person re-created under
 * a new id (claimFoundAccount "take-over") while the old user's job is still running. Each race
 * is made deterministic by running one job inside the other's read or write:
 * - the old job, which read the account before the take-over, writes nothing to it after: not
 *   a disable (the new owner would be left disabled, with no job to look again), and not the
 *   roles or admin of the old user's groups (a wrong grant);
 * - a take-over waits while the old job is writing to the account;
 * - the new owner's job plans from the account as it is after the take-over, not as it read it
 *   before (the old job may have written in between).
 */
import { describe, expect, it } from "vitest";
import type { ContaboUpdateUserBody } from "../../src/targets/contabo/api.ts";
import { classifyFailure } from "../../workers/failure_policy.ts";
import { type ContaboSyncContext, syncContaboUser } from "../../workers/sync_contabo.ts";
import { userEvent } from "../_support/harness.ts";
import {
  afterNextCall as after,
  applyEvents as apply,
  contaboJobsForFile,
} from "../_support/target_jobs.ts";

const contabo = contaboJobsForFile();

/**
 * Two sync contexts on `prefix`, each with a client of its own (so one job's calls can be
 * hooked): the old IdP user's job's, and the re-created one's. A deleted IdP user's account is
 * kept, disabled; `<prefix>-admins` grants role 101 and admin.
 */
function pair(prefix: string): [old: ContaboSyncContext, other: ContaboSyncContext] {
  const context = () =>
    contabo.context(prefix, {
      targets: ["ionos", "contabo"],
      onUserDeleted: "deactivate",
      administrators: [`${prefix}-admins`],
      contabo: { roles: { [`${prefix}-admins`]: [101] } },
    });
  return [context(), context()];
}

const deleted = (id: string) => ({ id: crypto.randomUUID(), type: "user.deleted", data: { id } });
const groupCreated = (id: string, displayName: string, members: string[]) => ({
  id: crypto.randomUUID(),
  type: "group.created",
  data: { id, displayName, members: members.map((value) => ({ value })) },
});

/** u-old synced: returns the Contabo user its job made. */
async function synced(old: ContaboSyncContext, email: string) {
  await apply(old.store, userEvent("user.created", "u-old", email));
  await syncContaboUser(old, "u-old");
  return (await old.links.get("user", "u-old")).targetId!;
}

/** The IdP deletes u-old and re-creates the person as u-new. */
async function recreate(old: ContaboSyncContext, email: string) {
  await apply(old.store, deleted("u-old"));
  await apply(old.store, userEvent("user.created", "u-new", email));
}

/** u-old synced (its Contabo user made), then deleted at the IdP and re-created as u-new. */
async function recreated(old: ContaboSyncContext, email: string) {
  const userId = await synced(old, email);
  expect(contabo.sim.users.get(userId)?.enabled).toBe(true);
  await recreate(old, email);
  return userId;
}

describe("Contabo take-over from a deleted IdP user, under races", () => {
  it("the old user's job does not disable the account taken over since it read it", async () => {
    const [old, other] = pair("dis");
    const userId = await recreated(old, "dis.ada@example.com");

    // u-old's job reads its account; u-new's job takes it over right then.
    after(old.client, "getUser", () => syncContaboUser(other, "u-new"));
    await syncContaboUser(old, "u-old");

    // Disabled by the old job, the new owner would stay so: its own job had run already.
    expect(await old.links.holderOf("user", userId)).toBe("u-new");
    expect(contabo.sim.users.get(userId)?.enabled).toBe(true);
  });

  it("a take-over waits while the old user's job is writing to the account", async () => {
    const [old, other] = pair("wrt");
    const userId = await recreated(old, "wrt.ada@example.com");

    // u-new's job runs while u-old's job sends its disable.
    let during: unknown;
    const update = old.client.updateUser.bind(old.client);
    old.client.updateUser = async (id: string, patch: ContaboUpdateUserBody) => {
      old.client.updateUser = update;
      during = await syncContaboUser(other, "u-new").catch((e) => e);
      return await update(id, patch);
    };
    await syncContaboUser(old, "u-old");
    // Had it finished "ok", nothing would enable the account the old job disabled after it.
    expect(during).toBeInstanceOf(Error);
    expect(classifyFailure(during)).toBe("retry");

    // The retry, once the old job let go: taken over and enabled.
    await syncContaboUser(other, "u-new");
    expect(await old.links.holderOf("user", userId)).toBe("u-new");
    expect(contabo.sim.users.get(userId)?.enabled).toBe(true);
  });

  it("the new owner's job plans from the account as it is after the take-over", async () => {
    const [old, other] = pair("rrd");
    const userId = await recreated(old, "rrd.ada@example.com");

    // u-new's job finds the account (enabled); u-old's job disables it right then.
    after(other.client, "findUserByEmail", () => syncContaboUser(old, "u-old"));
    await syncContaboUser(other, "u-new");

    expect(await old.links.holderOf("user", userId)).toBe("u-new");
    expect(contabo.sim.users.get(userId)?.enabled).toBe(true);
  });

  it("a job that read its user alive grants nothing to an account taken over since", async () => {
    const [old, other] = pair("grt");
    const userId = await synced(old, "grt.ada@example.com");
    // u-old joins the admins: its next job grants role 101 and admin.
    await apply(old.store, groupCreated("g-adm", "grt-admins", ["u-old"]));

    // Right after that job read the account, the IdP deletes u-old and re-creates the person
    // as u-new, in no group, whose job takes the account over.
    after(old.client, "getUser", async () => {
      await recreate(old, "grt.ada@example.com");
      await syncContaboUser(other, "u-new");
    });
    await syncContaboUser(old, "u-old");

    const now = contabo.sim.users.get(userId)!;
    expect(await old.links.holderOf("user", userId)).toBe("u-new");
    expect(now.admin).toBe(false);
    expect(now.roles).toEqual([]);
    expect(now.enabled).toBe(true);
  });
});
