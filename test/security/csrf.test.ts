/**
 * Finding 14 of issue 10: dashboard mutations accepted cross-site `text/plain` POSTs. A browser
 * attaches the dashboard's Basic credentials on its own, so only a request that sets a bearer
 * token itself may come from another site. Real service, real Redis, real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, type Harness, startHarness } from "../_support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => await h.stop());

const basic = { authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` };
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
const crossSite = { "sec-fetch-site": "cross-site", origin: "https://evil.example" };
const sameOrigin = { "sec-fetch-site": "same-origin" };

async function send(method: string, path: string, headers: Record<string, string>) {
  const res = await fetch(`${h.url}${path}`, {
    method,
    headers: { "content-type": "text/plain", ...headers },
    body: method === "GET" ? null : "{}",
  });
  await res.body?.cancel();
  return res.status;
}

describe("admin and dashboard mutations from another site", () => {
  it.each([
    ["PUT", "/admin/queues/api/queues/ionos-sync/pause", { ...basic, ...crossSite }],
    ["PUT", "/admin/queues/api/queues/ionos-sync/pause", {
      ...basic,
      "sec-fetch-site": "same-site",
    }],
    ["PUT", "/admin/queues/api/queues/ionos-sync/pause", {
      ...basic,
      origin: "https://evil.example",
    }],
    ["POST", "/admin/queues/api/queues/ionos-sync/retry/failed", { ...basic, ...crossSite }],
    ["POST", "/admin/api/queue/pause", { ...basic, ...crossSite }],
    ["POST", "/admin/api/jobs/retry", { ...basic, origin: "null" }],
  ])("refuses %s %s with 403 (%o)", async (method, path, headers) => {
    expect(await send(method, path, headers)).toBe(403);
  });

  it("lets the dashboard's own same-origin calls through", async () => {
    expect(
      await send("PUT", "/admin/queues/api/queues/ionos-sync/pause", { ...basic, ...sameOrigin }),
    )
      .toBe(200);
    const host = new URL(h.url).host;
    expect(
      await send("PUT", "/admin/queues/api/queues/ionos-sync/resume", {
        ...basic,
        origin: `http://${host}`,
      }),
    ).toBe(200);
  });

  it("lets a request that sets its own bearer token through, whatever the site", async () => {
    expect(
      await send("PUT", "/admin/queues/api/queues/ionos-sync/resume", { ...bearer, ...crossSite }),
    )
      .toBe(200);
  });

  it("never refuses a read", async () => {
    expect(await send("GET", "/admin/queues/api/queues", { ...basic, ...crossSite })).toBe(200);
  });
});
