/**
 * A user job that finds its own create after a lost answer sends a confirming write and keeps
 * the account "creating" until it is DONE; when the same run also meets a conflict (the IdP
 * moved the user to an email an unmanaged IONOS account holds), the conflict must still settle
 * the record and enqueue the user's groups once the write is DONE. Before the fix the record
 * stayed "creating" and the group, which had skipped the user, never added it (model test,
 * ionos seed 733). Real service, real Redis, the IONOS simulator over HTTP.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  type Harness,
  ionosUserTwin as twin,
  startHarness,
  until,
  userEvent,
} from "../_support/harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("own create found after a lost answer, with an email conflict in the same run", () => {
  it("still settles the record and lets the group add the user", async () => {
    h = await startHarness({
      // The retry waits long enough for the test to change the email in between.
      env: { JOB_BACKOFF_MS: "1500" },
      mapping: `groups:\n  include: ["ionos-*"]\n`,
      sim: {
        // Only user creates: applied, answered 503 (switched off after the first one).
        faults: { lostAnswerRate: 1, status5xx: 503, methods: ["POST"], pathPrefix: "/um/users" },
      },
    });
    const sim = h.sim.sim;
    sim.state.addUser({ firstname: "Legacy", lastname: "Account", email: "legacy@example.com" });

    await h.postEvents({
      events: [
        userEvent("user.created", "u", "u@example.com"),
        {
          id: crypto.randomUUID(),
          type: "group.created",
          data: { id: "g", displayName: "ionos-g", members: [{ value: "u" }] },
        },
      ],
    });
    await until(
      "u's create to lose its answer",
      () =>
        sim.callLog.some((c) =>
          c.method === "POST" && c.path.endsWith("/um/users") && c.fault === "lostAnswer"
        ),
    );
    sim.setFaults({});
    // Before the retry: the IdP gives u the address the unmanaged account already has.
    const res = await h.postEvents(userEvent("user.updated", "u", "legacy@example.com"));
    expect(res.status).toBe(202);

    const stats = await h.drain(30_000);
    // The u job failed as a conflict (not retried): the email stays taken by the legacy account.
    expect(stats.jobs.failed).toBe(1);
    const u = await twin(h, "u");
    // (The failed job marks the record "conflict" either way; the membership below is what
    // the lost afterDone broke.)
    expect(u.state).toBe("conflict");
    expect(u.lastError).toContain("legacy@example.com");
    const account = sim.state.userByEmail("u@example.com")!;
    expect(account).toBeDefined();
    expect(u.ionosId).toBe(account.id);
    expect(sim.state.users().filter((x) => x.properties.email === "u@example.com")).toHaveLength(1);
    // The group, which skipped u while it was "creating", has it now.
    const group = sim.state.groups().find((g) => g.properties.name === "ionos-g")!;
    expect(group).toBeDefined();
    expect(sim.state.members(group.id)).toContain(account.id);
  });
});
