/** Small pure parts: the Prometheus registry, time parsing, secret stripping, IONOS health. */
import { describe, expect, it } from "vitest";
import { formatTable } from "../../src/cli/output.ts";
import { Counter, Gauge, Histogram, Registry } from "../../src/metrics/registry.ts";
import { IonosHealth } from "../../src/metrics/ionos_health.ts";
import { mappedFields } from "../../src/ops/oplog/mapped_fields.ts";
import { normalizeEvent } from "../../src/store/wanted_state.ts";
import type { SyncEvent } from "../../src/events/event.ts";
import { parseTime } from "../../src/ops/oplog/time.ts";

describe("Registry", () => {
  it("renders counters, gauges and histograms in the text format", async () => {
    const r = new Registry();
    const c = r.add(new Counter("t_total", "Things.", ["kind"]));
    const g = r.add(new Gauge("t_level", "Level."));
    const h = r.add(new Histogram("t_seconds", "Time.", ["op"], [0.1, 1]));
    c.inc({ kind: 'a"b\\c\nd' });
    c.inc({ kind: "x" }, 2);
    g.set({}, 3.5);
    h.observe({ op: "get" }, 0.05);
    h.observe({ op: "get" }, 5);
    const text = await r.render();
    expect(text).toBe([
      "# HELP t_total Things.",
      "# TYPE t_total counter",
      't_total{kind="a\\"b\\\\c\\nd"} 1',
      't_total{kind="x"} 2',
      "# HELP t_level Level.",
      "# TYPE t_level gauge",
      "t_level 3.5",
      "# HELP t_seconds Time.",
      "# TYPE t_seconds histogram",
      't_seconds_bucket{op="get",le="0.1"} 1',
      't_seconds_bucket{op="get",le="1"} 1',
      't_seconds_bucket{op="get",le="+Inf"} 2',
      't_seconds_sum{op="get"} 5.05',
      't_seconds_count{op="get"} 2',
      "",
    ].join("\n"));
  });

  it("refuses duplicate names and negative increments; survives a failing collector", async () => {
    const r = new Registry();
    r.add(new Counter("a_total", "A."));
    expect(() => r.add(new Counter("a_total", "A."))).toThrow(/already registered/);
    expect(() => new Counter("bad name", "x")).toThrow(TypeError);
    expect(() => new Counter("b_total", "B.").inc({}, -1)).toThrow(RangeError);
    const errors: unknown[] = [];
    r.addCollector(() => {
      throw new Error("redis away");
    });
    await r.render((e) => errors.push(e));
    expect(errors).toHaveLength(1);
  });
});

describe("parseTime()", () => {
  const now = Date.parse("2026-11-21T12:00:00Z");
  it.each([
    ["2h", "2026-11-21T10:00:00.000Z"],
    ["30m", "2026-11-21T11:30:00.000Z"],
    ["7d", "2026-11-14T12:00:00.000Z"],
    ["2026-11-21T10:00:00Z", "2026-11-21T10:00:00.000Z"],
    ["2026-11-21T10:00:00", "2026-11-21T10:00:00.000Z"],
    ["2026-11-21", "2026-11-21T00:00:00.000Z"],
    ["2026-11-21T10:00:00+01:00", "2026-11-21T09:00:00.000Z"],
  ])("reads %s", (text, iso) => {
    expect(new Date(parseTime(text, now)).toISOString()).toBe(iso);
  });
  it("refuses anything else", () => {
    expect(() => parseTime("yesterday")).toThrow(/use an ISO time/);
  });
});

// Finding 13: unknown fields were stored whole; the secret blocklist missed credentials.value.
describe("mappedFields()", () => {
  const user = {
    id: "e1",
    type: "user.created",
    time: "2026-11-21T10:00:00Z",
    data: {
      id: "00u1",
      userName: "ada@example.com",
      name: { givenName: "Ada", familyName: "Lovelace", honorificPrefix: "Lady" },
      emails: [{ value: "ada@example.com", primary: true, type: "work" }],
      active: true,
      credentials: { value: "hunter2-not-a-secret-name" },
      phoneNumbers: [{ value: "+44 20 7946 0000" }],
    },
  } as unknown as SyncEvent;

  it("keeps only the fields the sync maps, whatever the others are called", () => {
    expect(mappedFields(user)).toEqual({
      id: "e1",
      type: "user.created",
      time: "2026-11-21T10:00:00Z",
      data: {
        id: "00u1",
        userName: "ada@example.com",
        name: { givenName: "Ada", familyName: "Lovelace" },
        emails: [{ value: "ada@example.com", primary: true }],
        active: true,
      },
    });
  });

  it.each([
    user,
    {
      id: "e2",
      type: "group.updated",
      data: { id: "g1", displayName: "devs", members: [{ value: "u1", display: "Ada" }], x: 1 },
    },
    { id: "e3", type: "group.members.added", data: { groupId: "g1", members: [{ value: "u1" }] } },
    { id: "e4", type: "user.deleted", data: { id: "00u1", email: "ada@example.com" } },
  ] as unknown as SyncEvent[])("changes nothing the wanted state reads ($type)", (event) => {
    expect(normalizeEvent(mappedFields(event), 0)).toEqual(normalizeEvent(event, 0));
  });
});

describe("IonosHealth", () => {
  it("is idle, then ok, then failing, then ok again", () => {
    let now = 1_000_000;
    const health = new IonosHealth({ recentMs: 60_000, now: () => now });
    expect(health.report().status).toBe("idle");
    health.onCall({ method: "GET", route: "/um/users", status: 200, durationMs: 5 });
    expect(health.report().status).toBe("ok");
    now += 1000;
    health.onCall({ method: "GET", route: "/um/users", status: 503, durationMs: 5 });
    expect(health.report()).toMatchObject({
      status: "failing",
      lastFailure: "503 on GET /um/users",
    });
    now += 1000;
    health.onCall({ method: "GET", route: "/um/users", status: 404, durationMs: 5 });
    expect(health.report().status).toBe("ok");
    now += 120_000;
    expect(health.report().status).toBe("idle");
  });
});

describe("formatTable()", () => {
  it("aligns columns and cuts long cells", () => {
    const text = formatTable([{ a: "1", b: "x".repeat(10) }, { a: "22", b: "y" }], [
      { header: "A", value: (r) => r.a },
      { header: "B", value: (r) => r.b, max: 5 },
    ]);
    expect(text).toBe("A   B\n1   xxxx…\n22  y\n");
  });
});
