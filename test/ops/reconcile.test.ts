/**
 * Reconcile against the simulator: drift made behind our back is found by a dry run that
 * changes nothing, fixed by a real run, and a second dry run finds nothing. Also the same as a
 * job on the workers through the admin API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MAPPING } from "../../src/config/mapping.ts";
import { IonosClient } from "../../src/targets/ionos/client.ts";
import { AuditLog } from "../../src/ops/oplog/audit_log.ts";
import { reconcile, type ReconcileDeps } from "../../src/ops/reconcile/reconcile.ts";
import { createSyncQueue } from "../../src/queue/sync_queue.ts";
import { IonosRecords } from "../../src/targets/ionos/records.ts";
import { WantedStateStore } from "../../src/store/wanted_state.ts";
import { type Harness, startHarness, userEvent } from "../_support/harness.ts";
import { admin, usersWithEmail, waitFor } from "../_support/admin.ts";

let h: Harness;
let deps: ReconcileDeps;
beforeAll(async () => {
  h = await startHarness();
  const redis = h.redis.client();
  deps = {
    store: new WantedStateStore(redis),
    records: new IonosRecords(redis),
    ionos: new IonosClient({ baseUrl: h.sim.url, auth: { token: "sim-token" } }),
    mapping: DEFAULT_MAPPING,
    queue: createSyncQueue(redis),
    audit: new AuditLog(redis),
    actor: "test",
  };
});
afterAll(async () => {
  await deps.queue.close();
  await h.stop();
});

const state = () => h.sim.sim.state;
const idOf = (email: string) => state().userByEmail(email)!.id;

describe("reconcile", () => {
  it("finds drift in a dry run without changing anything, then fixes it", async () => {
    await h.postEvents({
      events: [
        userEvent("user.created", "rc-1", "rhea.rc@example.com"),
        userEvent("user.created", "rc-2", "ravi.rc@example.com"),
        userEvent("user.created", "rc-3", "rune.rc@example.com"),
        {
          id: crypto.randomUUID(),
          type: "group.created",
          data: {
            id: "rc-g",
            displayName: "rc-team",
            members: [{ value: "rc-1" }, { value: "rc-2" }],
          },
        },
      ],
    });
    await h.drain();
    const group = state().groups().find((g) => g.properties.name === "rc-team")!;

    // Someone changes IONOS by hand.
    state().updateUser(idOf("rhea.rc@example.com"), { firstname: "Mallory" });
    state().updateUser(idOf("ravi.rc@example.com"), { active: false });
    state().removeMember(group.id, idOf("ravi.rc@example.com"));
    state().deleteUser(idOf("rune.rc@example.com"));
    // A new IdP user whose email already exists in IONOS, unmanaged (sync paused meanwhile).
    await admin(h, "POST", "/queue/pause");
    await h.postEvents(userEvent("user.created", "rc-4", "rosa.rc@example.com"));
    const unmanaged = state().addUser({
      firstname: "Rosa",
      lastname: "Manual",
      email: "rosa.rc@example.com",
    });

    const before = JSON.stringify({ users: state().users(), groups: state().groups() });
    const waitingBefore = (await h.stats()).jobs.waiting;
    const dry = await reconcile(deps, { dryRun: true });
    expect(dry.counts).toMatchObject({
      update: 2, // rhea's firstname; rosa's names differ from the IdP's
      reactivate: 1,
      create: 1,
      adopt: 1,
      "add-member": 1,
      "remove-member": 0,
      delete: 0,
    });
    expect(dry.items.find((i) => i.action === "update" && i.entity === "user:rc-1")?.detail)
      .toContain('firstname: "Mallory" -> "rhea"');
    expect(dry.items.find((i) => i.action === "adopt")).toMatchObject({
      entity: "user:rc-4",
      ionosId: unmanaged.id,
    });
    expect(dry.enqueued).toEqual([]);
    expect(JSON.stringify({ users: state().users(), groups: state().groups() })).toBe(before);
    expect((await h.stats()).jobs.waiting).toBe(waitingBefore);

    const fix = await reconcile(deps);
    expect(fix.enqueued.sort()).toEqual(
      ["group:rc-g", "user:rc-1", "user:rc-2", "user:rc-3", "user:rc-4"],
    );
    await admin(h, "POST", "/queue/resume");
    const stats = await h.drain();
    expect(stats.jobs.failed).toBe(0);

    expect(state().userByEmail("rhea.rc@example.com")!.properties.firstname).toBe("rhea");
    expect(state().userByEmail("ravi.rc@example.com")!.properties.active).toBe(true);
    expect(state().members(group.id).sort()).toEqual(
      [idOf("rhea.rc@example.com"), idOf("ravi.rc@example.com")].sort(),
    );
    expect(usersWithEmail(h, "rune.rc@example.com")).toBe(1);
    expect(usersWithEmail(h, "rosa.rc@example.com")).toBe(1);
    expect(idOf("rosa.rc@example.com")).toBe(unmanaged.id);

    const after = await reconcile(deps, { dryRun: true });
    expect(after.items).toEqual([]);
  });

  it("runs as a job on the workers when asked through the admin API", async () => {
    state().updateUser(idOf("rhea.rc@example.com"), { lastname: "Changed" });
    const started = await admin<{ jobId: string; status: string }>(h, "POST", "/reconcile", {
      mode: "report",
    });
    expect(started.status).toBe(202);
    const run = await waitFor("reconcile job", async () => {
      const r = await admin<{ state: string; result?: { counts: Record<string, number> } }>(
        h,
        "GET",
        `/reconcile/${started.body.jobId}`,
      );
      return r.body.state === "completed" ? r.body : undefined;
    });
    expect(run.result!.counts.update).toBe(1);
    // Report mode fixes nothing.
    expect(state().userByEmail("rhea.rc@example.com")!.properties.lastname).toBe("Changed");

    const fixing = await admin<{ jobId: string }>(h, "POST", "/reconcile", { mode: "fix" });
    await waitFor("fix job", async () => {
      const r = await admin<{ state: string }>(h, "GET", `/reconcile/${fixing.body.jobId}`);
      return r.body.state === "completed";
    });
    await h.drain();
    expect(state().userByEmail("rhea.rc@example.com")!.properties.lastname).not.toBe("Changed");
    expect((await admin(h, "POST", "/reconcile", { mode: "bogus" })).status).toBe(400);
  });
});
