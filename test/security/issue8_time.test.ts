/**
 * Issue 8, case 3 and the "Time is bounded" rule: an event time more than
 * MAX_EVENT_CLOCK_SKEW_SECONDS (default 300) ahead of Redis' clock is applied at Redis' clock,
 * counted in a metric and logged at most once a minute per source, so nothing can pin state from
 * the future.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../_support/harness.ts";
import { at, group, ionosUser, issue8Mapping, members, send, user } from "./issue8_helpers.ts";

const FUTURE = "2099-01-01T00:00:00Z";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ mapping: issue8Mapping() });
});
afterAll(async () => await h?.stop());

/** The value of `..._event_time_clamped_total{source="<source>"}` (0 when absent). */
async function clampedCount(source: string): Promise<number> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    /event_time_clamped_total\{/.test(l) && l.includes(`source="${source}"`)
  );
  return line ? Number(line.trim().split(/\s+/).pop()) : 0;
}

/** Log lines that warn about event times clamped to the clock for this source. */
const clampWarnings = (source: string) =>
  h.logs.filter((l) => /clamp|ahead of the clock/i.test(l) && l.includes(`"source":"${source}"`));

describe("issue 8 case 3: the future pins the past", () => {
  it("after an event dated 2099 (user and membership), a real-time deactivation and leaving the admin group still land", async () => {
    await send(
      h,
      user("user.created", "c3-user", "future@example.com"),
      group("group.created", "c3-admins", "ionos-admins", ["c3-user"]),
    );
    await h.drain();
    const id = ionosUser(h, "future@example.com")!.id;
    expect(h.sim.sim.state.user(id)?.properties).toMatchObject({
      administrator: true,
      active: true,
    });

    // Answered 202, as before; but it must not outrank what happens next.
    await send(
      h,
      at(
        FUTURE,
        user("user.updated", "c3-user", "future@example.com", {
          name: { givenName: "Fut", familyName: "Ure" },
        }),
      ),
      at(FUTURE, members("group.members.added", "c3-admins", ["c3-user"])),
    );
    await h.drain();
    expect(h.sim.sim.state.user(id)?.properties.firstname).toBe("Fut");
    await new Promise((r) => setTimeout(r, 20)); // the next events are strictly later

    await send(h, user("user.deactivated", "c3-user", "future@example.com"));
    await h.drain();
    expect(h.sim.sim.state.user(id)?.properties.active).toBe(false);

    await send(h, members("group.members.removed", "c3-admins", ["c3-user"]));
    await h.drain();
    expect(h.sim.sim.state.user(id)?.properties.administrator).toBe(false);
  });
});

describe("time is bounded", () => {
  it("counts each clamped event in event_time_clamped_total{source} and logs once a minute per source; a time within the skew is not clamped", async () => {
    const before = await clampedCount("events");
    // 60 s ahead is within the default 300 s: kept as sent, not counted.
    await send(
      h,
      at(
        new Date(Date.now() + 60_000).toISOString(),
        user("user.created", "tb-near", "near@example.com"),
      ),
    );
    expect(await clampedCount("events")).toBe(before);

    await send(h, at(FUTURE, user("user.created", "tb-far-1", "far1@example.com")));
    await send(h, at(FUTURE, user("user.created", "tb-far-2", "far2@example.com")));
    expect(await clampedCount("events")).toBe(before + 2);
    // However many were clamped within the minute, one warning for the source.
    expect(clampWarnings("events")).toHaveLength(1);
    await h.drain();
  });
});

describe("MAX_EVENT_CLOCK_SKEW_SECONDS", () => {
  let s: Harness;
  beforeAll(async () => {
    s = await startHarness({
      mapping: issue8Mapping(),
      env: { MAX_EVENT_CLOCK_SKEW_SECONDS: "5" },
    });
  });
  afterAll(async () => await s?.stop());

  it("bounds how far ahead an event may be: with 5 s, an event 10 minutes ahead does not outrank a real-time deactivation", async () => {
    const ahead = new Date(Date.now() + 600_000).toISOString();
    await send(s, at(ahead, user("user.created", "sk-user", "skew@example.com")));
    await s.drain();
    const id = ionosUser(s, "skew@example.com")!.id;
    await new Promise((r) => setTimeout(r, 20));
    await send(s, user("user.deactivated", "sk-user", "skew@example.com"));
    await s.drain();
    expect(s.sim.sim.state.user(id)?.properties.active).toBe(false);
  });
});
