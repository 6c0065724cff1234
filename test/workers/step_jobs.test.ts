/**
 * Step jobs (workers/request_steps.ts) against the simulator over HTTP, real Redis and the real
 * service: a job whose IONOS request is slow gives its worker slot back, resumes after a worker
 * restart without sending its write twice, keeps "removal wins" across the wait, and re-sends a
 * member add whose request ended FAILED.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RequestTiming } from "../../src/targets/ionos/simulator/mod.ts";
import {
  type Harness,
  ionosUserTwin as twin,
  startHarness,
  until,
  userEvent,
} from "../_support/harness.ts";

const SLOW_MS = 3000;
const slow: RequestTiming = { duration: { kind: "fixed", ms: SLOW_MS }, failRate: 0 };
const quick: RequestTiming = { duration: { kind: "fixed", ms: 20 }, failRate: 0 };

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const userCreates = (h: Harness) =>
  h.sim.sim.callLog.filter((c) => c.method === "POST" && c.path.endsWith("/um/users"));

describe("a job waiting for a slow IONOS request", () => {
  it("gives its only worker slot to another job meanwhile", async () => {
    h = await startHarness({ env: { WORKER_CONCURRENCY: "1" } });
    h.sim.sim.setTiming(slow);
    await h.postEvents(userEvent("user.created", "slow-a", "slow.a@example.com"));
    await until("A's create", () => userCreates(h!).length === 1);
    h.sim.sim.setTiming(quick); // only A's request is slow
    const aSent = Date.now();

    await h.postEvents(userEvent("user.created", "slow-b", "slow.b@example.com"));
    await until("B synced", async () => (await twin(h!, "slow-b")).state === "synced");
    const bDone = Date.now();

    // B went through the one slot while A's request was still running: A did not hold it.
    expect(bDone - aSent).toBeLessThan(SLOW_MS);
    const a = await twin(h, "slow-a");
    expect(a.state).toBe("creating");
    expect(a.request).toBeTruthy();
    expect((await h.stats()).jobs.delayed).toBe(1);

    const stats = await h.drain();
    expect(stats.jobs.failed).toBe(0);
    expect((await twin(h, "slow-a")).state).toBe("synced");
    expect((await twin(h, "slow-a")).request).toBe("");
    expect(h.sim.sim.state.userByEmail("slow.a@example.com")).toBeDefined();
    expect(userCreates(h)).toHaveLength(2);
  });

  it("resumes after its worker stopped mid-wait, without sending the write again", async () => {
    h = await startHarness({ env: { WORKER_CONCURRENCY: "1" } });
    h.sim.sim.setTiming(slow);
    await h.postEvents(userEvent("user.created", "crash-a", "crash.a@example.com"));
    await until("the job to wait delayed", async () => (await h!.stats()).jobs.delayed === 1);
    expect(userCreates(h)).toHaveLength(1);

    // The worker goes away while the request runs; a new one (new process state: no request
    // tracker knows the request) picks the job up from Redis.
    await h.service!.stop();
    expect((await twin(h, "crash-a")).state).toBe("creating");
    await h.startService();

    const stats = await h.drain(30_000);
    expect(stats.jobs.failed).toBe(0);
    expect(stats.jobs.completed).toBeGreaterThanOrEqual(1);
    expect(userCreates(h)).toHaveLength(1);
    expect(h.sim.sim.state.users().filter((u) => u.properties.email === "crash.a@example.com"))
      .toHaveLength(1);
    const a = await twin(h, "crash-a");
    expect(a.state).toBe("synced");
    expect(a.ionosId).toBe(h.sim.sim.state.userByEmail("crash.a@example.com")!.id);
  });

  it("applies a change that lands while it waits delayed (the queue folds the add into it)", async () => {
    h = await startHarness({ env: { WORKER_CONCURRENCY: "1" } });
    h.sim.sim.setTiming(slow);
    await h.postEvents(userEvent("user.created", "late-a", "late.a@example.com"));
    await until("the job to wait delayed", async () => (await h!.stats()).jobs.delayed === 1);
    // While the create runs, the IdP deactivates and renames the user. BullMQ de-duplicates
    // this add into the delayed job, so that job must notice the change when it resumes.
    const res = await h.postEvents(
      userEvent("user.updated", "late-a", "late.a@example.com", {
        active: false,
        name: { givenName: "Later", familyName: "A" },
      }),
    );
    expect(res.status).toBe(202);
    expect((await h.stats()).jobs.waiting).toBe(0); // folded in, not queued on its own
    h.sim.sim.setTiming(quick);
    const stats = await h.drain(30_000);
    expect(stats.jobs.failed).toBe(0);
    expect(h.sim.sim.state.userByEmail("late.a@example.com")!.properties).toMatchObject({
      active: false,
      firstname: "Later",
    });
    expect(userCreates(h)).toHaveLength(1);
  });

  it("keeps removal first: the rest of the update is sent only once the reduction is DONE", async () => {
    h = await startHarness({
      mapping: `administrators: ["ionos-admins"]\ngroups:\n  include: ["ionos-*"]\n`,
    });
    await h.postEvents({
      events: [
        userEvent("user.created", "red-a", "red.a@example.com"),
        {
          id: crypto.randomUUID(),
          type: "group.created",
          data: { id: "adm", displayName: "ionos-admins", members: [{ value: "red-a" }] },
        },
      ],
    });
    await h.drain();
    const ionos = () => h!.sim.sim.state.userByEmail("red.a@example.com")!;
    expect(ionos().properties.administrator).toBe(true);

    // One event takes the admin right away (leaves the group) and one renames: with slow
    // requests, the rename must wait for the demotion to be DONE.
    h.sim.sim.setTiming(slow);
    const since = h.sim.sim.callLog.length;
    await h.postEvents({
      events: [
        {
          id: crypto.randomUUID(),
          type: "group.members.removed",
          data: { groupId: "adm", members: [{ value: "red-a" }] },
        },
        userEvent("user.updated", "red-a", "red.a@example.com", {
          name: { givenName: "Renamed", familyName: "A" },
        }),
      ],
    });
    await h.drain(30_000);
    const puts = h.sim.sim.callLog.slice(since).filter((c) =>
      c.method === "PUT" && c.path.includes("/um/users/")
    );
    expect(puts.length).toBe(2);
    // The rename went out a request duration after the demotion, not alongside it.
    expect(puts[1]!.time - puts[0]!.time).toBeGreaterThanOrEqual(SLOW_MS - 50);
    expect(ionos().properties).toMatchObject({ administrator: false, firstname: "Renamed" });
  });
});

describe("member writes", () => {
  it("are confirmed together and a FAILED one is sent again", async () => {
    h = await startHarness({ mapping: `groups:\n  include: ["ionos-*"]\n` });
    const ids = Array.from({ length: 20 }, (_, i) => `mem-${i}`);
    await h.postEvents({
      events: ids.map((id) => userEvent("user.created", id, `${id}@example.com`)),
    });
    await h.drain();
    // One member add in four ends FAILED (and is undone by the simulator).
    h.sim.sim.setTiming({ duration: { kind: "fixed", ms: 300 }, failRate: 0.25 });
    const since = h.sim.sim.callLog.length;
    await h.postEvents({
      id: crypto.randomUUID(),
      type: "group.created",
      data: { id: "big", displayName: "ionos-big", members: ids.map((value) => ({ value })) },
    });
    const stats = await h.drain(60_000);
    expect(stats.jobs.failed).toBe(0);
    const state = h.sim.sim.state;
    const group = state.groups().find((g) => g.properties.name === "ionos-big")!;
    expect(state.members(group.id)).toHaveLength(ids.length);
    const calls = h.sim.sim.callLog.slice(since);
    const adds = calls.filter((c) => c.method === "POST" && c.path.endsWith("/users"));
    expect(adds.length).toBeGreaterThan(ids.length); // the FAILED ones were sent again
    // No status GET per member add: the requests listing confirmed them together. A write sent
    // again alone (after FAILED) may be checked with one status GET: a few, not one per add.
    const statusGets = calls.filter((c) => c.path.endsWith("/status")).length;
    expect(statusGets).toBeLessThanOrEqual(adds.length / 3);
  });
});
