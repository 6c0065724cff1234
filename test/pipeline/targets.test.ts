/**
 * The core end-to-end scenarios, once per target (issue 11, "Proof"): the same events in at
 * POST /events, and each target's simulator read through its view (test/_support/targets.ts).
 * What a scenario expects follows the target's capabilities: Contabo holds IdP groups as roles
 * on the user; Cloudflare cannot deactivate, so a deactivated user stops being a member, and a
 * new member is a pending invitation. test/pipeline/sync.test.ts keeps IONOS's own details.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TARGET_CAPABILITIES } from "../../src/targets/target.ts";
import { userEvent } from "../_support/harness.ts";
import { startTargetHarness, type TargetHarness, TARGETS } from "../_support/targets.ts";

const GROUPS = ["team-ops", "team-dev", "team-admins"];

const groupEvent = (type: string, data: Record<string, unknown>) => ({
  id: crypto.randomUUID(),
  type,
  data,
});

describe.each(TARGETS)("core scenarios on %s", (target) => {
  const caps = TARGET_CAPABILITIES[target];
  const hasGroups = caps.groups || caps.userRoles;
  let t: TargetHarness;
  const view = () => t.view;

  async function send(...events: unknown[]) {
    const res = await t.h.postEvents(events.length === 1 ? events[0] : { events });
    expect(res.status).toBe(202);
    await t.h.drain();
  }

  beforeAll(async () => {
    t = await startTargetHarness(target, {
      groups: GROUPS,
      administrators: ["team-admins"],
      extra: { onUserDeleted: "delete", protectedEmails: ["keeper@example.com"] },
    });
  }, 60_000);
  afterAll(async () => await t?.stop());

  it("user created: one account, able to log in, no administrator", async () => {
    const bystander = view().addUnmanagedUser("by.stander@example.com");
    await send(userEvent("user.created", "u1", "ada.lovelace@example.com"));
    expect(view().user("ada.lovelace@example.com")).toMatchObject({ enabled: true, admin: false });
    expect(view().user("ada.lovelace@example.com")!.pending).toBe(caps.invitation);
    expect(view().usersWithEmail("ada.lovelace@example.com")).toBe(1);
    expect(view().users().find((u) => u.id === bystander)).toBeDefined();
    expect(await t.failedJobs()).toEqual([]);
  });

  it("user updated: a new email (and name, where kept) reach the one account", async () => {
    await send(userEvent("user.updated", "u1", "ada.king@example.com", {
      name: { givenName: "Ada", familyName: "King" },
    }));
    expect(view().user("ada.lovelace@example.com")).toBeUndefined();
    expect(view().usersWithEmail("ada.king@example.com")).toBe(1);
    if (view().keepsNames) {
      expect(view().user("ada.king@example.com")).toMatchObject({
        firstName: "Ada",
        lastName: "King",
      });
    }
    expect(await t.failedJobs()).toEqual([]);
  });

  it.skipIf(!hasGroups)(
    "group membership added and removed (skipped where the target has neither groups nor roles)",
    async () => {
      await send(
        userEvent("user.created", "u2", "grace.hopper@example.com"),
        groupEvent("group.created", {
          id: "g-ops",
          displayName: "team-ops",
          members: [{ value: "u1" }],
        }),
      );
      expect(view().user("ada.king@example.com")!.groups).toEqual(["team-ops"]);
      expect(view().user("grace.hopper@example.com")!.groups).toEqual([]);
      if (caps.groups) expect(view().groupNames()).toContain("team-ops");

      await send(
        groupEvent("group.members.added", { groupId: "g-ops", members: [{ value: "u2" }] }),
      );
      expect(view().user("grace.hopper@example.com")!.groups).toEqual(["team-ops"]);

      await send(
        groupEvent("group.members.removed", { groupId: "g-ops", members: [{ value: "u1" }] }),
      );
      expect(view().user("ada.king@example.com")!.groups).toEqual([]);
      expect(view().user("grace.hopper@example.com")!.groups).toEqual(["team-ops"]);
      expect(await t.failedJobs()).toEqual([]);
    },
  );

  it.skipIf(!caps.adminFlag)(
    "the administrators group gives the admin flag, and leaving it takes it away (skipped where the target has no admin flag)",
    async () => {
      await send(
        userEvent("user.created", "u3", "root@example.com"),
        groupEvent("group.created", {
          id: "g-admins",
          displayName: "team-admins",
          members: [{ value: "u3" }],
        }),
      );
      expect(view().user("root@example.com")).toMatchObject({ admin: true });
      await send(
        groupEvent("group.members.removed", { groupId: "g-admins", members: [{ value: "u3" }] }),
      );
      expect(view().user("root@example.com")).toMatchObject({ admin: false, enabled: true });
      expect(await t.failedJobs()).toEqual([]);
    },
  );

  it.skipIf(!hasGroups)(
    "group deleted: what it granted goes, its users stay (skipped where the target has neither groups nor roles)",
    async () => {
      await send(groupEvent("group.deleted", { id: "g-ops" }));
      expect(view().groupNames()).not.toContain("team-ops");
      expect(view().user("grace.hopper@example.com")).toMatchObject({ enabled: true, groups: [] });
      expect(await t.failedJobs()).toEqual([]);
    },
  );

  it("user deactivated: disabled, or removed where the target cannot deactivate", async () => {
    await send(
      groupEvent("group.created", {
        id: "g-dev",
        displayName: "team-dev",
        members: [{ value: "u1" }],
      }),
    );
    if (hasGroups) expect(view().user("ada.king@example.com")!.groups).toEqual(["team-dev"]);
    await send(userEvent("user.deactivated", "u1", "ada.king@example.com"));
    const after = view().user("ada.king@example.com");
    if (caps.deactivate) {
      expect(after).toMatchObject({ enabled: false, admin: false });
      // A disabled account keeps no role a later enable would reopen (where roles are the user's).
      if (caps.userRoles) expect(after!.groups).toEqual([]);
    } else {
      expect(after).toBeUndefined();
    }
    expect(await t.failedJobs()).toEqual([]);
  });

  it("user reactivated: able to log in again, with its groups", async () => {
    await send(userEvent("user.reactivated", "u1", "ada.king@example.com"));
    expect(view().user("ada.king@example.com")).toMatchObject({ enabled: true });
    expect(view().usersWithEmail("ada.king@example.com")).toBe(1);
    if (hasGroups) expect(view().user("ada.king@example.com")!.groups).toEqual(["team-dev"]);
    expect(await t.failedJobs()).toEqual([]);
  });

  it("user deleted: the account is gone; an account the sync does not manage is untouched", async () => {
    const before = view().user("by.stander@example.com");
    await send(
      groupEvent("user.deleted", { id: "u1" }),
      groupEvent("user.deleted", { id: "never-seen" }),
    );
    expect(view().user("ada.king@example.com")).toBeUndefined();
    expect(view().user("by.stander@example.com")).toEqual(before);
    expect(await t.failedJobs()).toEqual([]);
  });

  it("an adopted account loses its access when its IdP user is deactivated or deleted; a protected one is untouched", async () => {
    view().addUnmanagedUser("pre.a@example.com");
    view().addUnmanagedUser("pre.b@example.com");
    view().addUnmanagedUser("keeper@example.com");
    await send(
      userEvent("user.created", "pa", "pre.a@example.com"),
      userEvent("user.created", "pb", "pre.b@example.com"),
      userEvent("user.created", "pk", "keeper@example.com"),
    );
    // Adopted, not invited or created a second time.
    expect(view().usersWithEmail("pre.a@example.com")).toBe(1);
    expect(view().usersWithEmail("pre.b@example.com")).toBe(1);
    const keeper = view().user("keeper@example.com");
    await send(
      userEvent("user.deactivated", "pa", "pre.a@example.com"),
      groupEvent("user.deleted", { id: "pb" }),
      userEvent("user.deactivated", "pk", "keeper@example.com"),
    );
    for (const email of ["pre.a@example.com", "pre.b@example.com"]) {
      // Kept but off where the target can deactivate (deleteAdopted is false); Cloudflare can
      // only end the membership (the person's own Cloudflare user stays).
      if (caps.deactivate) {
        expect(view().user(email)).toMatchObject({ enabled: false, admin: false });
      } else expect(view().user(email)).toBeUndefined();
    }
    expect(view().user("keeper@example.com")).toEqual(keeper);
    // Only IONOS's refusals of the protected email for an IdP user: no conflict on the target.
    for (const failed of await t.failedJobs()) {
      expect(failed).toMatch(/^ionos-sync user:pk: conflict: .*protected/);
    }
  });

  it("refuses to give two live IdP users one account: the second is a conflict", async () => {
    await send(userEvent("user.created", "twin-a", "shared@example.com"));
    await send(userEvent("user.created", "twin-b", "Shared@example.com"));
    expect(view().usersWithEmail("shared@example.com")).toBe(1);
    const failed = (await t.failedJobs()).filter((f) => !f.startsWith("ionos-sync "));
    if (target !== "ionos") {
      expect(failed).toEqual([
        expect.stringMatching(/user:twin-b: conflict: IdP user twin-a already holds/),
      ]);
    }
    // twin-a keeps its account, able to log in.
    expect(view().user("shared@example.com")).toMatchObject({ enabled: true });
  });
});
