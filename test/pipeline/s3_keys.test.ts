/**
 * End to end: a deactivated account's S3 keys are closed (`offboarding.s3Keys`), only the keys
 * the service turned off come back at reactivation, protected and unmanaged accounts' keys are
 * never touched, and reconcile finds and fixes a key turned on again by hand. Real Redis, real
 * workers, the simulator over HTTP, with faults.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { admin, waitFor } from "../_support/admin.ts";
import { type Harness, startHarness, userEvent } from "../_support/harness.ts";

const ev = (type: string, data: unknown) => ({ id: crypto.randomUUID(), type, data });

async function send(h: Harness, ...events: unknown[]) {
  const res = await h.postEvents(events.length === 1 ? events[0] : { events });
  expect(res.status).toBe(202);
}

const keyStates = (h: Harness, email: string) => {
  const user = h.sim.sim.state.userByEmail(email)!;
  return Object.fromEntries(h.sim.sim.access.s3Keys(user.id).map((k) => [k.id, k.active]));
};

async function reconcile(h: Harness, mode: "fix" | "report") {
  const started = await admin<{ jobId: string }>(h, "POST", "/reconcile", { mode });
  expect(started.status).toBe(202);
  const run = await waitFor("reconcile run", async () => {
    const r = await admin<{
      state: string;
      result?: { counts: Record<string, number>; items: { action: string; detail: string }[] };
    }>(h, "GET", `/reconcile/${started.body.jobId}`);
    return r.body.state === "completed" && r.body.result ? r.body : undefined;
  });
  await h.drain();
  return run.result!;
}

describe("S3 keys with offboarding.s3Keys: deactivate (default)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ mapping: `protectedEmails: ["owner@example.com"]\n` });
  });
  afterAll(async () => await h.stop());

  it("turns the keys off with the account and only those back on with it", async () => {
    await send(h, userEvent("user.created", "k1", "kim@example.com"));
    await h.drain();
    const uid = h.sim.sim.state.userByEmail("kim@example.com")!.id;
    const a = h.sim.sim.access.addS3Key(uid).id;
    const b = h.sim.sim.access.addS3Key(uid).id;
    const offByHand = h.sim.sim.access.addS3Key(uid, false).id;

    await send(h, userEvent("user.deactivated", "k1", "kim@example.com"));
    await h.drain();
    expect(h.sim.sim.state.user(uid)!.properties.active).toBe(false);
    expect(keyStates(h, "kim@example.com")).toEqual({ [a]: false, [b]: false, [offByHand]: false });
    const twin = await h.redis.client().hgetall("sync:ionos:user:k1");
    expect(twin.s3KeysOff!.split(",").sort()).toEqual([a, b].sort());
    const who = await admin<{ s3Keys?: { turnedOff: string[] } }>(h, "GET", "/whois/user:k1");
    expect(who.body.s3Keys?.turnedOff.sort()).toEqual([a, b].sort());
    // The CLI's whois reads the keys live: which the sync turned off, and never a secret.
    const out: string[] = [];
    const code = await main(["whois", "user:k1", "--live"], {
      REDIS_URL: h.env.REDIS_URL!,
      IONOS_API_URL: h.sim.url,
      IONOS_TOKEN: "sim-token",
    }, { stdout: (t) => out.push(t), stderr: (t) => out.push(t), isTTY: false });
    expect(code).toBe(0);
    const text = out.join("");
    expect(text).toContain("S3 keys in IONOS now");
    expect(text).toMatch(new RegExp(`${a}\\s+false\\s+yes`));
    expect(text).toMatch(new RegExp(`${offByHand}\\s+false\\s*\\n`));
    for (const k of h.sim.sim.access.s3Keys(uid)) expect(text).not.toContain(k.secretKey);
    // The key writes were PUTs on the reference path with active: false, answered 202.
    const puts = h.sim.sim.callLog.filter((c) => c.method === "PUT" && c.path.includes("/s3keys/"));
    expect(puts.map((c) => c.status)).toEqual([202, 202]);

    // Turned on again by hand while the account is off: drift, found and fixed.
    h.sim.sim.access.setS3KeyActive(uid, b, true);
    const report = await reconcile(h, "fix");
    expect(report.counts["close-s3-keys"]).toBe(1);
    expect(keyStates(h, "kim@example.com")[b]).toBe(false);

    await send(h, userEvent("user.reactivated", "k1", "kim@example.com"));
    await h.drain();
    expect(keyStates(h, "kim@example.com")).toEqual({ [a]: true, [b]: true, [offByHand]: false });
    expect((await h.redis.client().hgetall("sync:ionos:user:k1")).s3KeysOff).toBe("");
    expect((await h.stats()).jobs.failed).toBe(0);
  });

  it("deactivates the account first: failing key calls never hold the deactivation back", async () => {
    await send(h, userEvent("user.created", "k-o", "order@example.com"));
    await h.drain();
    const uid = h.sim.sim.state.userByEmail("order@example.com")!.id;
    const key = h.sim.sim.access.addS3Key(uid).id;
    h.sim.sim.setFaults({ pathPrefix: `/um/users/${uid}/s3keys`, error5xxRate: 1 });
    try {
      await send(h, userEvent("user.deactivated", "k-o", "order@example.com"));
      await waitFor("the deactivation", () => !h.sim.sim.state.user(uid)!.properties.active);
      expect(keyStates(h, "order@example.com")).toEqual({ [key]: true });
    } finally {
      h.sim.sim.setFaults({});
    }
    await h.drain();
    expect(keyStates(h, "order@example.com")).toEqual({ [key]: false });
    expect((await h.stats()).jobs.failed).toBe(0);
  });

  it("never touches the keys of a protected or an unmanaged account", async () => {
    const owner = h.sim.sim.state.addUser({
      firstname: "O",
      lastname: "Wner",
      email: "owner@example.com",
    });
    const ownerKey = h.sim.sim.access.addS3Key(owner.id).id;
    const stranger = h.sim.sim.state.addUser({
      firstname: "S",
      lastname: "Tranger",
      email: "stranger@example.com",
      active: false,
    });
    const strangerKey = h.sim.sim.access.addS3Key(stranger.id).id;
    await send(
      h,
      userEvent("user.created", "k-own", "owner@example.com", { active: false }),
    );
    await h.drain();
    await reconcile(h, "fix");
    expect(keyStates(h, "owner@example.com")).toEqual({ [ownerKey]: true });
    expect(keyStates(h, "stranger@example.com")).toEqual({ [strangerKey]: true });
    const touched = h.sim.sim.callLog.filter((c) =>
      c.path.includes(`/um/users/${owner.id}/s3keys`) ||
      c.path.includes(`/um/users/${stranger.id}/s3keys`)
    );
    expect(touched).toEqual([]);
  });

  it("closes the keys of an adopted account that a delete only deactivates", async () => {
    const pre = h.sim.sim.state.addUser({
      firstname: "A",
      lastname: "Dopted",
      email: "adopted@example.com",
    });
    const key = h.sim.sim.access.addS3Key(pre.id).id;
    await send(h, userEvent("user.created", "k-ad", "adopted@example.com"));
    await h.drain();
    expect(keyStates(h, "adopted@example.com")).toEqual({ [key]: true });
    await send(h, ev("user.deleted", { id: "k-ad" }));
    await h.drain();
    expect(h.sim.sim.state.user(pre.id)!.properties.active).toBe(false);
    expect(keyStates(h, "adopted@example.com")).toEqual({ [key]: false });
  });

  it("converges with lost answers, 5xx and 429 on key writes", async () => {
    await send(h, userEvent("user.created", "k-f", "faulty@example.com"));
    await h.drain();
    const uid = h.sim.sim.state.userByEmail("faulty@example.com")!.id;
    const keys = [1, 2, 3, 4, 5, 6].map(() => h.sim.sim.access.addS3Key(uid).id);
    const before = h.sim.sim.callLog.length;
    h.sim.sim.setFaults({
      pathPrefix: "/um/users",
      lostAnswerRate: 0.35,
      error5xxRate: 0.25,
      rate429: 0.1,
      writesOnly: true,
    });
    try {
      await send(h, userEvent("user.deactivated", "k-f", "faulty@example.com"));
      await h.drain(60_000);
    } finally {
      h.sim.sim.setFaults({});
    }
    await reconcile(h, "fix");
    expect(keyStates(h, "faulty@example.com")).toEqual(
      Object.fromEntries(keys.map((k) => [k, false])),
    );
    const recorded = (await h.redis.client().hgetall("sync:ionos:user:k-f")).s3KeysOff!;
    expect(recorded.split(",").sort()).toEqual([...keys].sort());
    expect(h.sim.sim.callLog.slice(before).some((c) => c.fault)).toBe(true);

    await send(h, userEvent("user.reactivated", "k-f", "faulty@example.com"));
    await h.drain();
    expect(keyStates(h, "faulty@example.com")).toEqual(
      Object.fromEntries(keys.map((k) => [k, true])),
    );
  });
});

describe("S3 keys with onUserDeleted: deactivate and offboarding.s3Keys: delete", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      mapping: `onUserDeleted: deactivate\noffboarding: { s3Keys: delete }\n`,
    });
  });
  afterAll(async () => await h.stop());

  it("deletes the keys when a delete at the IdP deactivates the account", async () => {
    await send(h, userEvent("user.created", "d1", "dora@example.com"));
    await h.drain();
    const uid = h.sim.sim.state.userByEmail("dora@example.com")!.id;
    h.sim.sim.access.addS3Key(uid);
    h.sim.sim.access.addS3Key(uid, false);
    await send(h, ev("user.deleted", { id: "d1" }));
    await h.drain();
    expect(h.sim.sim.state.user(uid)!.properties.active).toBe(false);
    expect(h.sim.sim.access.s3Keys(uid)).toEqual([]);
    const deletes = h.sim.sim.callLog.filter((c) =>
      c.method === "DELETE" && c.path.includes(`/um/users/${uid}/s3keys/`)
    );
    expect(deletes.map((c) => c.status)).toEqual([202, 202]);
  });
});

describe("S3 keys with offboarding.s3Keys: keep", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ mapping: `offboarding: { s3Keys: keep }\n` });
  });
  afterAll(async () => await h.stop());

  it("leaves the keys of a deactivated account as they are", async () => {
    await send(h, userEvent("user.created", "p1", "pat@example.com"));
    await h.drain();
    const uid = h.sim.sim.state.userByEmail("pat@example.com")!.id;
    const key = h.sim.sim.access.addS3Key(uid).id;
    await send(h, userEvent("user.deactivated", "p1", "pat@example.com"));
    await h.drain();
    expect(h.sim.sim.state.user(uid)!.properties.active).toBe(false);
    expect(keyStates(h, "pat@example.com")).toEqual({ [key]: true });
    expect(h.sim.sim.callLog.some((c) => c.method === "PUT" && c.path.includes("/s3keys/")))
      .toBe(false);
  });
});
