/**
 * Finding 13 of issue 10 as it was seen: with `EVENT_LOG_MAX_AGE_HOURS=1`, 3-hour-old entries
 * with emails were still served, because the log was trimmed only when new events arrived. The
 * real service, no events sent at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../_support/harness.ts";
import { admin, waitFor } from "../_support/admin.ts";

let h: Harness;
const logId = `${Date.now() - 3 * 3_600_000}-0`;
beforeAll(async () => {
  h = await startHarness({ start: false, env: { EVENT_LOG_MAX_AGE_HOURS: "1" } });
  const r = h.redis.client();
  const payload = JSON.stringify({
    id: "old-1",
    type: "user.created",
    data: { id: "u-old", emails: [{ value: "three.hours@example.com" }] },
  });
  await r.xadd(
    "sync:eventlog",
    logId,
    ...[
      ["e", "old-1"],
      ["src", "events"],
      ["type", "user.created"],
      ["ent", "user:u-old"],
      ["t", String(Date.now() - 3 * 3_600_000)],
      ["tev", "0"],
      ["ents", "[]"],
      ["jobs", "{}"],
      ["p", payload],
    ].flat(),
  );
  await h.startService();
});
afterAll(async () => await h.stop());

describe("the event log without traffic", () => {
  it("no longer serves an entry older than EVENT_LOG_MAX_AGE_HOURS", async () => {
    // Looked up by its log id, as `events show` does.
    await waitFor("the old entry to go", async () => {
      const res = await admin(h, "GET", `/events/${logId}`);
      return res.status === 404 && !JSON.stringify(res.body).includes("three.hours@example.com");
    }, 5_000);
    expect(await h.redis.client().xlen("sync:eventlog")).toBe(0);
  });
});
