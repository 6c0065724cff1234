import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createIonosSimulator,
  type IonosSimulator,
} from "../../../../src/targets/ionos/simulator/mod.ts";

const AUTH = { Authorization: "Bearer sim-token" };
// deno-lint-ignore no-explicit-any
type Json = any;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

async function call(sim: IonosSimulator, method: string, path: string, body?: unknown) {
  const res = await sim.app.request(`/cloudapi/v6${path}`, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

const userBody = (email: string) => ({
  properties: { firstname: "A", lastname: "B", email, password: "very-secret-pw" },
});

/** Three user creates one second apart, then a group create; request 0 is DONE by the end. */
async function seeded(): Promise<{ sim: IonosSimulator; ids: string[] }> {
  vi.useFakeTimers({ toFake: ["Date"], now: T0 });
  const sim = createIonosSimulator({
    rateLimitPerSecond: 0,
    requestTiming: { duration: { kind: "fixed", ms: 2500 }, failRate: 0 },
  });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    vi.setSystemTime(T0 + i * 1000);
    const res = await call(sim, "POST", "/um/users", userBody(`u${i}@x.org`));
    ids.push(res.headers.get("location")!.split("/").at(-2)!);
  }
  vi.setSystemTime(T0 + 3000);
  const g = await call(sim, "POST", "/um/groups", { properties: { name: "eng" } });
  ids.push(g.headers.get("location")!.split("/").at(-2)!);
  return { sim, ids };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("GET /requests", () => {
  it("lists references at depth 0, newest first, with paging links", async () => {
    const { sim, ids } = await seeded();
    const page = await call(sim, "GET", "/requests?limit=3");
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ type: "collection", offset: 0, limit: 3 });
    expect(page.body.items.map((r: Json) => r.id)).toEqual([ids[3], ids[2], ids[1]]);
    expect(Object.keys(page.body.items[0]).sort()).toEqual(["href", "id", "type"]);
    expect(page.body._links.next).toContain("offset=3");
    const next = await call(sim, "GET", "/requests?limit=3&offset=3");
    expect(next.body.items.map((r: Json) => r.id)).toEqual([ids[0]]);
    expect(next.body._links.next).toBeUndefined();
    expect((await call(sim, "GET", "/requests")).body.limit).toBe(1000); // documented default
  });

  it("at depth 2 carries each request's status inline; depth 1 only a reference", async () => {
    const { sim, ids } = await seeded();
    const deep = await call(sim, "GET", "/requests?depth=2");
    const oldest = deep.body.items.find((r: Json) => r.id === ids[0]);
    expect(oldest).toMatchObject({
      type: "request",
      metadata: {
        createdDate: new Date(T0).toISOString(),
        createdBy: "sim@example.com",
        requestStatus: { id: ids[0], type: "request-status", metadata: { status: "DONE" } },
      },
      properties: { method: "POST" },
    });
    expect(oldest.properties.url).toMatch(/\/cloudapi\/v6\/um\/users$/);
    expect(deep.body.items[0].metadata.requestStatus.metadata.status).toBe("QUEUED");
    const shallow = await call(sim, "GET", "/requests?depth=1");
    expect(shallow.body.items[0].metadata.requestStatus.metadata).toBeUndefined();
  });

  it("never shows a password or the Authorization header", async () => {
    const { sim } = await seeded();
    const text = JSON.stringify((await call(sim, "GET", "/requests?depth=2")).body);
    expect(text).not.toContain("very-secret-pw");
    expect(text).not.toContain("sim-token");
    expect(text).toContain("[redacted]");
  });

  it.each([
    ["filter.status=DONE", [0]],
    ["filter.status=queued", [2, 3]],
    ["filter.createdAfter=2026-01-01 12:00:00", [1, 2, 3]],
    ["filter.createdBefore=2026-01-01 12:00:02", [0, 1]],
    ["filter.createdAfter=2026-01-01 12:00:00&filter.status=RUNNING", [1]],
    ["depth=1&filter.url=UM/GROUPS", [3]],
    ["depth=1&filter.body=u1@x", [1]],
    ["depth=1&filter.method=post&filter.requestStatus=run", [1]],
  ])("filters %s", async (query, expected) => {
    const { sim, ids } = await seeded();
    const res = await call(sim, "GET", `/requests?${query}`);
    expect(res.status).toBe(200);
    const want = expected.map((i) => ids[i]).reverse();
    expect(res.body.items.map((r: Json) => r.id)).toEqual(want);
  });

  it.each([
    "filter.url=users", // substring filters need depth > 0
    "filter.createdAfter=yesterday",
    "filter.status=PENDING",
    "filter.colour=red",
    "limit=0",
  ])("answers 400 to %s", async (query) => {
    const { sim } = await seeded();
    expect((await call(sim, "GET", `/requests?${query}`)).status).toBe(400);
  });

  it("GET /requests/{id} answers the request; both routes count against the rate limit", async () => {
    const sim = createIonosSimulator({ rateLimitPerSecond: 2, requestDelayMs: 0 });
    const created = await call(sim, "POST", "/um/groups", { properties: { name: "g" } });
    const id = created.headers.get("location")!.split("/").at(-2)!;
    const one = await call(sim, "GET", `/requests/${id}?depth=1`);
    expect(one.body).toMatchObject({ id, metadata: { requestStatus: { metadata: {} } } });
    expect(one.headers.get("X-RateLimit-Limit")).toBe("120");
    const refused = await call(sim, "GET", "/requests");
    expect(refused.status).toBe(429); // the third call within the burst of 2
    expect(sim.callLog.map((c) => c.path.replace(/[0-9a-f-]{36}/, "{id}"))).toEqual([
      "/cloudapi/v6/um/groups",
      "/cloudapi/v6/requests/{id}",
      "/cloudapi/v6/requests",
    ]);
  });
});
