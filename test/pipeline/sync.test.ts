/**
 * End to end: events in at POST /events, IONOS state out in the simulator, with real Redis,
 * real BullMQ workers and the simulator over HTTP. The core runs on one Redis and on a local
 * 3-primary Redis Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncQueue } from "../../src/queue/sync_queue.ts";
import { type Harness, REDIS_BACKENDS, startHarness, userEvent } from "../_support/harness.ts";

const MAPPING = `
onUserDeleted: delete
administrators: ["ionos-admins"]
groups:
  include: ["ionos-*"]
  privileges:
    ionos-developers: [createDataCenter, createSnapshot, createK8sCluster]
protectedEmails: ["owner@example.com"]
`;

// Set by the beforeAll of the backend whose tests run now (describe blocks run one after another).
let h: Harness;

const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 10, 0, s)).toISOString();
const state = () => h.sim.sim.state;
const ionosUser = (email: string) => state().userByEmail(email)?.properties;

async function send(...events: unknown[]) {
  const res = await h.postEvents(events.length === 1 ? events[0] : { events });
  expect(res.status).toBe(202);
  return await res.json() as { accepted: number; duplicates: number };
}

describe.each(REDIS_BACKENDS)("sync pipeline (%s Redis)", (backend) => {
  beforeAll(async () => {
    h = await startHarness({ mapping: MAPPING, backend });
  });
  afterAll(async () => await h.stop());

  it("creates, updates, deactivates, reactivates and deletes a user", async () => {
    await send(userEvent("user.created", "u1", "ada.lovelace@example.com"));
    await h.drain();
    const created = ionosUser("ada.lovelace@example.com");
    expect(created).toMatchObject({
      firstname: "ada",
      lastname: "lovelace",
      active: true,
      administrator: false,
    });

    await send(userEvent("user.updated", "u1", "ada.lovelace@example.com", {
      name: { givenName: "Ada", familyName: "King" },
    }));
    await h.drain();
    expect(ionosUser("ada.lovelace@example.com")).toMatchObject({
      firstname: "Ada",
      lastname: "King",
    });

    await send(userEvent("user.deactivated", "u1", "ada.lovelace@example.com"));
    await h.drain();
    expect(ionosUser("ada.lovelace@example.com")?.active).toBe(false);

    await send(userEvent("user.reactivated", "u1", "ada.lovelace@example.com"));
    await h.drain();
    expect(ionosUser("ada.lovelace@example.com")?.active).toBe(true);

    await send({ id: crypto.randomUUID(), type: "user.deleted", data: { id: "u1" } });
    await h.drain();
    expect(ionosUser("ada.lovelace@example.com")).toBeUndefined();
    expect((await h.stats()).jobs.failed).toBe(0);
  });

  it("creates groups with privileges and members, renames, removes members and deletes", async () => {
    await send(
      userEvent("user.created", "g-u1", "grace@example.com"),
      userEvent("user.created", "g-u2", "linus@example.com"),
      {
        id: crypto.randomUUID(),
        type: "group.created",
        data: { id: "g1", displayName: "ionos-developers", members: [{ value: "g-u1" }] },
      },
    );
    await h.drain();
    const group = state().groups().find((g) => g.properties.name === "ionos-developers")!;
    expect(group.properties).toMatchObject({
      createDataCenter: true,
      createSnapshot: true,
      createK8sCluster: true,
      reserveIp: false,
    });
    const memberEmails = () =>
      state().members(group.id).map((id) => state().user(id)!.properties.email).sort();
    expect(memberEmails()).toEqual(["grace@example.com"]);

    await send({
      id: crypto.randomUUID(),
      type: "group.members.added",
      data: { groupId: "g1", members: [{ value: "g-u2" }] },
    });
    await h.drain();
    expect(memberEmails()).toEqual(["grace@example.com", "linus@example.com"]);

    await send({
      id: crypto.randomUUID(),
      type: "group.members.removed",
      data: { groupId: "g1", members: [{ value: "g-u1" }] },
    });
    await h.drain();
    expect(memberEmails()).toEqual(["linus@example.com"]);

    await send({
      id: crypto.randomUUID(),
      type: "group.updated",
      data: { id: "g1", displayName: "ionos-platform" },
    });
    await h.drain();
    const renamed = state().group(group.id)!;
    expect(renamed.properties.name).toBe("ionos-platform");
    expect(renamed.properties.createDataCenter).toBe(false);
    expect(memberEmails()).toEqual(["linus@example.com"]);

    await send({ id: crypto.randomUUID(), type: "group.deleted", data: { id: "g1" } });
    await h.drain();
    expect(state().group(group.id)).toBeUndefined();
    // Deleting a group never deletes its users.
    expect(ionosUser("linus@example.com")).toBeDefined();
  });

  it("skips groups outside groups.include", async () => {
    await send({
      id: crypto.randomUUID(),
      type: "group.created",
      data: { id: "g-other", displayName: "marketing" },
    });
    await h.drain();
    expect(state().groups().some((g) => g.properties.name === "marketing")).toBe(false);
  });

  it("lets a member added before its user exists wait for the user", async () => {
    await send({
      id: crypto.randomUUID(),
      type: "group.created",
      data: { id: "g-early", displayName: "ionos-early", members: [{ value: "late-user" }] },
    });
    await h.drain();
    const group = state().groups().find((g) => g.properties.name === "ionos-early")!;
    expect(state().members(group.id)).toEqual([]);
    await send(userEvent("user.created", "late-user", "late@example.com"));
    await h.drain();
    expect(state().members(group.id)).toEqual([state().userByEmail("late@example.com")!.id]);
    expect((await h.stats()).jobs.failed).toBe(0);
  });

  it("makes members of the administrators group IONOS administrators, and demotes on removal", async () => {
    await send(
      userEvent("user.created", "adm-1", "root@example.com"),
      {
        id: crypto.randomUUID(),
        type: "group.created",
        data: { id: "g-admins", displayName: "ionos-admins", members: [{ value: "adm-1" }] },
      },
    );
    await h.drain();
    expect(ionosUser("root@example.com")?.administrator).toBe(true);
    await send({
      id: crypto.randomUUID(),
      type: "group.members.removed",
      data: { groupId: "g-admins", members: [{ value: "adm-1" }] },
    });
    await h.drain();
    expect(ionosUser("root@example.com")?.administrator).toBe(false);
  });

  it("converges a burst of events for one user in random order to the latest one", async () => {
    const events = [
      userEvent("user.created", "burst", "burst@example.com", { name: { givenName: "v0" } }),
      ...Array.from(
        { length: 12 },
        (_, i) =>
          userEvent("user.updated", "burst", "burst@example.com", {
            name: { givenName: `v${i + 1}`, familyName: "B" },
          }),
      ),
      userEvent("user.deactivated", "burst", "burst@example.com", {
        name: { givenName: "v13", familyName: "B" },
      }),
    ].map((e, i) => ({ ...e, time: at(i) }));
    const shuffled = [...events].sort(() => Math.random() - 0.5);
    // Delivered concurrently in three requests, in shuffled order.
    await Promise.all([0, 1, 2].map((k) => send(...shuffled.filter((_, i) => i % 3 === k))));
    await h.drain();
    expect(ionosUser("burst@example.com")).toMatchObject({ firstname: "v13", active: false });
    expect(state().users().filter((u) => u.properties.email === "burst@example.com")).toHaveLength(
      1,
    );
  });

  it("changes nothing on re-delivered events", async () => {
    const ev = userEvent("user.created", "redeliver", "again@example.com");
    await send(ev);
    await h.drain();
    const calls = h.sim.sim.callLog.length;
    expect(await send(ev, ev)).toEqual({ accepted: 0, duplicates: 2 });
    await h.drain();
    expect(h.sim.sim.callLog.length).toBe(calls);
  });

  it("adopts an existing IONOS user with the same email instead of duplicating it", async () => {
    const existing = state().addUser({
      firstname: "Pre",
      lastname: "Existing",
      email: "pre@example.com",
    });
    await send(userEvent("user.created", "pre", "pre@example.com"));
    await h.drain();
    const all = state().users().filter((u) => u.properties.email === "pre@example.com");
    expect(all.map((u) => u.id)).toEqual([existing.id]);
    expect(ionosUser("pre@example.com")).toMatchObject({ firstname: "pre", lastname: "Family" });
  });

  it("never touches a protected account or unmanaged users", async () => {
    const bystander = state().addUser({
      firstname: "By",
      lastname: "Stander",
      email: "by@example.com",
    });
    const owner = state().addUser({
      firstname: "The",
      lastname: "Owner",
      email: "owner@example.com",
      administrator: true,
    });
    await send(userEvent("user.created", "owner", "owner@example.com"));
    await h.drain();
    await send({ id: crypto.randomUUID(), type: "user.deleted", data: { id: "owner" } });
    await send({ id: crypto.randomUUID(), type: "user.deleted", data: { id: "never-seen" } });
    await h.drain();
    expect(state().user(owner.id)?.properties).toEqual(owner.properties);
    expect(state().user(bystander.id)).toBeDefined();
    const touched = h.sim.sim.callLog.filter((c) =>
      c.method !== "GET" && (c.path.includes(bystander.id) || c.path.includes(owner.id))
    );
    expect(touched).toEqual([]);
    // The IdP user that claimed the protected email was reported as a conflict.
    const queue = createSyncQueue(h.redis.client(), { prefix: h.bullPrefix });
    const failed = await queue.getFailed();
    expect(failed.map((j) => j.failedReason)).toEqual([
      expect.stringMatching(/^conflict: owner@example.com is a protected email/),
    ]);
    for (const job of failed) await job.remove();
    await queue.close();
  });

  it("hands an email over when the IdP deletes a user and re-creates it under a new id", async () => {
    await send(userEvent("user.created", "old-id", "moved@example.com"));
    await h.drain();
    await send(
      { id: crypto.randomUUID(), type: "user.deleted", data: { id: "old-id" } },
      userEvent("user.created", "new-id", "moved@example.com"),
    );
    await h.drain();
    expect(state().users().filter((u) => u.properties.email === "moved@example.com"))
      .toHaveLength(1);
    const twin = await h.redis.client().hgetall(h.keys.ionosUser("new-id"));
    expect(twin.ionosId).toBe(state().userByEmail("moved@example.com")!.id);
    expect((await h.stats()).jobs.failed).toBe(0);
  });

  it("refuses to give two live IdP users one IONOS user", async () => {
    await send(userEvent("user.created", "twin-a", "shared@example.com"));
    await h.drain();
    await send(userEvent("user.created", "twin-b", "shared@example.com"));
    await h.drain();
    const twin = await h.redis.client().hgetall(h.keys.ionosUser("twin-b"));
    expect(twin.lastError).toMatch(/^conflict: IdP user twin-a already holds shared@example.com/);
    expect(twin.state).toBe("conflict");
    expect(state().users().filter((u) => u.properties.email === "shared@example.com"))
      .toHaveLength(1);
    await h.redis.client().del(h.keys.ionosUser("twin-b"));
    // Leave the failed set as the 422 test below expects to find it.
    const queue = createSyncQueue(h.redis.client(), { prefix: h.bullPrefix });
    for (const job of await queue.getFailed()) await job.remove();
    await queue.close();
  });

  it("ends a 422 as a failed job that keeps the IONOS message", async () => {
    state().addUser({ firstname: "Taken", lastname: "Email", email: "taken@example.com" });
    await send(userEvent("user.created", "clash", "clash@example.com"));
    await h.drain();
    // The IdP sends a name IONOS refuses (blank after trimming).
    await send(userEvent("user.updated", "clash", "clash@example.com", {
      name: { givenName: " ", familyName: "Blank" },
    }));
    const stats = await h.drain();
    expect(stats.jobs.failed).toBe(1);
    const failed = await fetch(`${h.url}/admin/api/stats`, {
      headers: { authorization: `Bearer ${h.env.ADMIN_TOKEN}` },
    });
    expect(failed.status).toBe(200);
    const queue = createSyncQueue(h.redis.client(), { prefix: h.bullPrefix });
    const [job] = await queue.getFailed();
    await queue.close();
    expect(job?.data).toEqual({ kind: "user", id: "clash" });
    expect(job?.failedReason).toMatch(/^IONOS 422 on PUT .*firstname/);
    expect(job?.attemptsMade).toBe(1); // permanent: not retried
    const r = h.redis.client();
    const twin = await r.hgetall(h.keys.ionosUser("clash"));
    expect(twin.state).toBe("failed");
    expect(twin.lastError).toMatch(/IONOS 422 on PUT \/um\/users\/\{id\}: .*firstname/);
  });

  it("writes no password or token to the logs", () => {
    const text = h.logs.join("\n");
    expect(text.length).toBeGreaterThan(0);
    for (
      const secret of [h.env.EVENTS_TOKEN, h.env.ADMIN_TOKEN, "sim-token", h.env.WEBHOOK_SECRET]
    ) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/"password":"(?!\[redacted\])/);
  });
});

describe("with onUserDeleted: deactivate", () => {
  let d: Harness;
  beforeAll(async () => {
    d = await startHarness({ mapping: "onUserDeleted: deactivate" });
  });
  afterAll(async () => await d.stop());

  it("deactivates instead of deleting", async () => {
    await d.postEvents(userEvent("user.created", "keep", "keep@example.com"));
    await d.drain();
    await d.postEvents({ id: crypto.randomUUID(), type: "user.deleted", data: { id: "keep" } });
    await d.drain();
    expect(d.sim.sim.state.userByEmail("keep@example.com")?.properties).toMatchObject({
      active: false,
    });
  });

  it("takes a deleted user out of its IONOS groups while keeping the deactivated user", async () => {
    await d.postEvents({
      events: [
        userEvent("user.created", "leaver", "leaver@example.com"),
        {
          id: crypto.randomUUID(),
          type: "group.created",
          data: { id: "g-ops", displayName: "ops", members: [{ value: "leaver" }] },
        },
      ],
    });
    await d.drain();
    const state = d.sim.sim.state;
    const group = state.groups().find((g) => g.properties.name === "ops")!;
    const leaver = state.userByEmail("leaver@example.com")!;
    expect(state.members(group.id)).toEqual([leaver.id]);
    await d.postEvents({ id: crypto.randomUUID(), type: "user.deleted", data: { id: "leaver" } });
    await d.drain();
    expect(state.members(group.id)).toEqual([]);
    expect(state.user(leaver.id)?.properties.active).toBe(false);
  });
});
