/**
 * The event log and replay: every accepted event is logged without secrets; replaying a time
 * range or one event converges, never overwrites newer state, and never duplicates IONOS users.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, SCIM_TOKEN, startHarness, userEvent } from "../_support/harness.ts";
import { admin, usersWithEmail, waitFor } from "../_support/admin.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => await h.stop());

const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 9, 0, s)).toISOString();
const ionosUser = (email: string) => h.sim.sim.state.userByEmail(email);

interface Entry {
  eventId: string;
  source: string;
  type: string;
  entity: string;
  time: string;
  requestId?: string;
  jobs: Record<string, string>;
  entities: string[];
  replayOf?: string;
  payload?: { data: Record<string, unknown> };
}

describe("event log", () => {
  it("logs accepted events with entity, request id and job, without secret fields", async () => {
    const eventId = crypto.randomUUID();
    const event = userEvent("user.created", "log-1", "lena.log@example.com", {
      password: "hunter2-should-not-be-kept",
    }, eventId);
    const res = await h.postEvents({ ...event, time: at(1) }, { "x-request-id": "req-log-1" });
    expect(res.status).toBe(202);
    // The log is written before the 202, so it is there at once.
    const { body } = await admin<{ events: Entry[] }>(
      h,
      "GET",
      "/events?entity=user:log-1&payload=true",
    );
    expect(body.events).toHaveLength(1);
    const entry = body.events[0]!;
    expect(entry).toMatchObject({
      eventId,
      source: "events",
      entity: "user:log-1",
      time: at(1),
      requestId: "req-log-1",
      entities: ["user:log-1"],
    });
    expect(Object.keys(entry.jobs)).toEqual(["user:log-1"]);
    expect(entry.payload!.data.password).toBeUndefined();
    expect(JSON.stringify(entry)).not.toContain("hunter2");

    // A redelivery is a duplicate: not logged twice.
    await h.postEvents({ ...event, time: at(1) });
    const again = await admin<{ events: Entry[] }>(h, "GET", "/events?entity=user:log-1");
    expect(again.body.events).toHaveLength(1);
    await h.drain();
  });
});

describe("event log of other sources", () => {
  it("logs SCIM writes too, without the password a SCIM client may send", async () => {
    const res = await fetch(`${h.url}/scim/v2/Users`, {
      method: "POST",
      headers: { authorization: `Bearer ${SCIM_TOKEN}`, "content-type": "application/scim+json" },
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: "sam.scim@example.com",
        emails: [{ value: "sam.scim@example.com", primary: true }],
        password: "scim-password-never-kept",
        active: true,
      }),
    });
    expect(res.status).toBe(201);
    const { body } = await admin<{ events: Entry[] }>(h, "GET", "/events?source=scim&payload=true");
    expect(body.events.length).toBeGreaterThan(0);
    expect(body.events[0]!.type).toBe("user.created");
    expect(JSON.stringify(body.events)).not.toContain("scim-password-never-kept");
    await h.drain();
  });
});

describe("replay", () => {
  it("replays a time range without duplicating users or overwriting newer state", async () => {
    const since = new Date().toISOString();
    await h.postEvents({
      events: [
        { ...userEvent("user.created", "rp-1", "rita.replay@example.com"), time: at(10) },
        { ...userEvent("user.created", "rp-2", "remy.replay@example.com"), time: at(10) },
        // No time of its own: ordered by its receive time, which replay must keep.
        userEvent("user.created", "rp-3", "rosa.replay@example.com"),
      ],
    });
    await h.postEvents({
      ...userEvent("user.updated", "rp-1", "rita.replay@example.com", {
        name: { givenName: "Rita", familyName: "Newer" },
      }),
      time: at(20),
    });
    await h.drain();
    const usersBefore = h.sim.sim.state.users().length;
    expect(ionosUser("rita.replay@example.com")?.properties.lastname).toBe("Newer");

    const dry = await admin<{ selected: number; replays: unknown[] }>(h, "POST", "/events/replay", {
      since,
      dryRun: true,
    });
    expect(dry.body.selected).toBe(4);

    const replay = await admin<{ accepted: number; entities: string[]; replays: unknown[] }>(
      h,
      "POST",
      "/events/replay",
      { since },
    );
    expect(replay.status).toBe(200);
    expect(replay.body.accepted).toBe(4);
    // rp-1's created event is older than its update: it changes nothing.
    expect(replay.body.entities.sort()).toEqual(["user:rp-1", "user:rp-2", "user:rp-3"]);
    const stats = await h.drain();
    expect(stats.jobs.failed).toBe(0);
    expect(h.sim.sim.state.users().length).toBe(usersBefore);
    for (const email of ["rita.replay@example.com", "remy.replay@example.com"]) {
      expect(usersWithEmail(h, email)).toBe(1);
    }
    expect(ionosUser("rita.replay@example.com")?.properties.lastname).toBe("Newer");

    const logged = await admin<{ events: Entry[] }>(h, "GET", "/events?source=replay");
    expect(logged.body.events).toHaveLength(4);
    expect(logged.body.events.every((e) => e.replayOf && e.eventId.startsWith("replay-")))
      .toBe(true);
  });

  it("replays one event to restore a user deleted behind our back, twice without dedupe", async () => {
    const eventId = crypto.randomUUID();
    const event = {
      ...userEvent("user.created", "rp-9", "ron.replay@example.com", {}, eventId),
      time: at(30),
    };
    await h.postEvents(event);
    await h.drain();
    const first = ionosUser("ron.replay@example.com")!;
    h.sim.sim.state.deleteUser(first.id);

    const replayed = await admin<{ accepted: number }>(h, "POST", "/events/replay", {
      eventId,
    });
    expect(replayed.body.accepted).toBe(1);
    await h.drain();
    expect(usersWithEmail(h, "ron.replay@example.com")).toBe(1);
    expect(ionosUser("ron.replay@example.com")!.id).not.toBe(first.id);

    // The same event again: a fresh replay id, so the event de-duplication does not drop it.
    const again = await admin<{ accepted: number }>(h, "POST", "/events/replay", {
      eventId,
    });
    expect(again.body.accepted).toBe(1);
    await h.drain();
    expect(usersWithEmail(h, "ron.replay@example.com")).toBe(1);
  });

  it("refuses an unknown event id and an empty selection", async () => {
    expect((await admin(h, "POST", "/events/replay", { eventId: "nope" })).status).toBe(404);
    expect((await admin(h, "POST", "/events/replay", {})).status).toBe(400);
    expect((await admin(h, "GET", "/events?since=yesterday")).status).toBe(400);
  });

  it("replays every event of one entity", async () => {
    const res = await admin<{ selected: number }>(h, "POST", "/events/replay", {
      entity: "user:rp-1",
    });
    expect(res.body.selected).toBe(2);
    await waitFor("drain", () => h.drain());
    expect(ionosUser("rita.replay@example.com")?.properties.lastname).toBe("Newer");
  });
});
