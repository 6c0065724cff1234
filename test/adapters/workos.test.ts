/** `POST /hooks/workos`: WorkOS Directory Sync webhooks, against a real Redis. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readUnknownEventCounts } from "../../src/adapters/unknown_events.ts";
import { mapWorkosEvent } from "../../src/adapters/workos/map.ts";
import { signWorkosPayload, verifyWorkosSignature } from "../../src/adapters/workos/signature.ts";
import { type HooksTestContext, startHooks, WORKOS_SECRET } from "./helpers.ts";

let t: HooksTestContext;
beforeAll(async () => {
  t = await startHooks();
});
afterAll(async () => await t.stop());

/** A directory user as WorkOS sends it. */
const directoryUser = (id: string, email: string, state = "active") => ({
  object: "directory_user",
  id,
  directory_id: "directory_01ECAZ4NV9QMV47GW873HDCX74",
  organization_id: "org_01EZTR6WYX1A0DSE2CYMGXQ24Y",
  idp_id: `idp-${id}`,
  first_name: "Lela",
  last_name: "Block",
  email,
  emails: [{ primary: true, type: "work", value: email }],
  username: email,
  state,
  custom_attributes: {},
  raw_attributes: {},
  created_at: "2024-06-25T19:07:33.155Z",
  updated_at: "2024-06-25T19:07:33.155Z",
});
const directoryGroup = (id: string, name: string) => ({
  object: "directory_group",
  id,
  idp_id: `idp-${id}`,
  directory_id: "directory_01ECAZ4NV9QMV47GW873HDCX74",
  organization_id: "org_01EZTR6WYX1A0DSE2CYMGXQ24Y",
  name,
  created_at: "2024-06-25T19:07:33.155Z",
  updated_at: "2024-06-25T19:07:33.155Z",
  raw_attributes: {},
});

let seq = 0;
const envelope = (event: string, data: unknown, createdAt = new Date().toISOString()) => ({
  id: `event_01TEST${++seq}`,
  event,
  data,
  created_at: createdAt,
});

async function deliver(payload: unknown, options: { t?: number; sig?: string } = {}) {
  const body = JSON.stringify(payload);
  const ts = String(options.t ?? t.now.ms);
  const sig = options.sig ?? await signWorkosPayload(WORKOS_SECRET, ts, body);
  return await t.post("/hooks/workos", body, { "WorkOS-Signature": `t=${ts}, v1=${sig}` });
}

describe("verifyWorkosSignature()", () => {
  it.each([
    ["a missing header", undefined, "missing"],
    ["a header without v1", "t=1700000000000", "malformed"],
    ["a non-numeric timestamp", "t=abc, v1=00", "malformed"],
  ])("refuses %s", async (_name, header, reason) => {
    const r = await verifyWorkosSignature(WORKOS_SECRET, header, "{}", 1700000000000);
    expect(r).toEqual({ ok: false, reason: expect.stringContaining(reason) });
  });

  it("accepts any of several v1 signatures (key rotation)", async () => {
    const sig = await signWorkosPayload(WORKOS_SECRET, "1700000000000", "{}");
    const header = `t=1700000000000, v1=${"0".repeat(64)}, v1=${sig}`;
    expect(await verifyWorkosSignature(WORKOS_SECRET, header, "{}", 1700000000000)).toEqual({
      ok: true,
    });
  });
});

describe("POST /hooks/workos", () => {
  it("accepts a signed dsync.user.created and stores the user", async () => {
    const res = await deliver(
      envelope("dsync.user.created", directoryUser("directory_user_01A", "lela@foo-corp.com")),
    );
    expect(res).toEqual({ status: 202, body: { accepted: 1, duplicates: 0 } });
    expect(await t.wanted.getUser("directory_user_01A")).toMatchObject({
      email: "lela@foo-corp.com",
      firstName: "Lela",
      lastName: "Block",
      externalId: "idp-directory_user_01A",
      active: true,
    });
  });

  it.each([
    ["a forged signature", { sig: "ab".repeat(32) }],
    ["a stale timestamp (4 minutes old)", { t: Date.now() - 240_000 }],
    ["a timestamp from the future", { t: Date.now() + 240_000 }],
  ])("refuses %s with 401 and stores nothing", async (_name, options) => {
    const user = directoryUser("directory_user_forged", "forged@foo-corp.com");
    const res = await deliver(envelope("dsync.user.created", user), options);
    expect(res.status).toBe(401);
    expect(await t.wanted.getUser("directory_user_forged")).toBeUndefined();
  });

  it("refuses a delivery without the header", async () => {
    const res = await t.post("/hooks/workos", "{}", {});
    expect(res.status).toBe(401);
  });

  it("counts a retried delivery (same event id) as a duplicate", async () => {
    const event = envelope(
      "dsync.user.created",
      directoryUser("directory_user_01B", "b@foo-corp.com"),
    );
    expect((await deliver(event)).body).toEqual({ accepted: 1, duplicates: 0 });
    expect((await deliver(event)).body).toEqual({ accepted: 0, duplicates: 1 });
  });

  it("maps user state, groups, membership and deletes", async () => {
    const u = "directory_user_01C";
    const g = "directory_group_01C";
    await deliver(envelope("dsync.user.created", directoryUser(u, "c@foo-corp.com")));
    await deliver(envelope("dsync.group.created", directoryGroup(g, "Engineering")));
    const added = await deliver(
      envelope("dsync.group.user_added", {
        directory_id: "directory_01ECAZ4NV9QMV47GW873HDCX74",
        user: directoryUser(u, "c@foo-corp.com"),
        group: directoryGroup(g, "Engineering"),
      }),
    );
    expect(added.body.accepted).toBe(1);
    expect(await t.wanted.getMembers(g)).toEqual([u]);
    await deliver(envelope("dsync.group.updated", directoryGroup(g, "Engineering EU")));
    expect(await t.wanted.getGroup(g)).toMatchObject({ displayName: "Engineering EU" });
    await deliver(envelope("dsync.user.updated", directoryUser(u, "c@foo-corp.com", "inactive")));
    expect(await t.wanted.getUser(u)).toMatchObject({ active: false });
    await deliver(
      envelope("dsync.group.user_removed", {
        user: directoryUser(u, "c@foo-corp.com"),
        group: directoryGroup(g, "Engineering EU"),
      }),
    );
    expect(await t.wanted.getMembers(g)).toEqual([]);
    await deliver(envelope("dsync.user.deleted", directoryUser(u, "c@foo-corp.com", "inactive")));
    await deliver(envelope("dsync.group.deleted", directoryGroup(g, "Engineering EU")));
    expect(await t.wanted.getUser(u)).toMatchObject({ deleted: true });
    expect(await t.wanted.getGroup(g)).toMatchObject({ deleted: true });
  });

  it("keeps the newest state when events arrive out of order", async () => {
    const u = "directory_user_01D";
    const later = envelope(
      "dsync.user.updated",
      { ...directoryUser(u, "d@foo-corp.com"), last_name: "Newer" },
      "2024-07-02T10:00:00.000Z",
    );
    const earlier = envelope(
      "dsync.user.created",
      { ...directoryUser(u, "d@foo-corp.com"), last_name: "Older" },
      "2024-07-01T10:00:00.000Z",
    );
    await deliver(later);
    await deliver(earlier);
    expect(await t.wanted.getUser(u)).toMatchObject({ lastName: "Newer" });
  });

  it("acknowledges unknown event types with 202 and counts them", async () => {
    const res = await deliver(envelope("connection.activated", { id: "conn_01" }));
    expect(res).toEqual({ status: 202, body: { accepted: 0, duplicates: 0, ignored: 1 } });
    await deliver(envelope("connection.activated", { id: "conn_02" }));
    expect((await readUnknownEventCounts(t.client))["workos:connection.activated"]).toBe(2);
  });

  it("answers 400 for a user without any email, and for a body that is not JSON", async () => {
    const user = {
      ...directoryUser("directory_user_01E", ""),
      email: null,
      emails: [],
      username: "e",
    };
    const res = await deliver(envelope("dsync.user.created", user));
    expect(res.status).toBe(400);
    expect(res.body.message).toContain("email");
    const ts = String(t.now.ms);
    const sig = await signWorkosPayload(WORKOS_SECRET, ts, "nope");
    const bad = await t.post("/hooks/workos", "nope", { "WorkOS-Signature": `t=${ts}, v1=${sig}` });
    expect(bad.status).toBe(400);
  });
});

describe("mapWorkosEvent()", () => {
  it.each([
    ["dsync.user.created", directoryUser("u", "a@b.co"), "user.created"],
    ["dsync.user.updated", directoryUser("u", "a@b.co"), "user.updated"],
    ["dsync.user.updated", directoryUser("u", "a@b.co", "inactive"), "user.deactivated"],
    ["dsync.user.updated", directoryUser("u", "a@b.co", "suspended"), "user.deactivated"],
    ["dsync.user.deleted", directoryUser("u", "a@b.co"), "user.deleted"],
    ["dsync.group.created", directoryGroup("g", "G"), "group.created"],
    ["dsync.group.updated", directoryGroup("g", "G"), "group.updated"],
    ["dsync.group.deleted", directoryGroup("g", "G"), "group.deleted"],
  ])("maps %s to %s", (event, data, type) => {
    const r = mapWorkosEvent({ id: "event_1", event, data, created_at: "2024-01-01T00:00:00Z" });
    expect(r.kind).toBe("events");
    if (r.kind === "events") {
      expect(r.events[0]).toMatchObject({
        id: "workos-event_1",
        type,
        time: "2024-01-01T00:00:00Z",
      });
    }
  });

  it("refuses an envelope without id or event", () => {
    expect(mapWorkosEvent({ event: "dsync.user.created" }).kind).toBe("invalid");
    expect(mapWorkosEvent("x").kind).toBe("invalid");
  });
});
