/**
 * `externalId eq`, `emails.value eq` and `emails[value eq …]` are answered from the lookup
 * index in Redis, which every SCIM write and delete keeps in step; other filters walk the store
 * in pages under the scan gate.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { findResources, parseListQuery } from "../../src/scim/list.ts";
import { ScanGate } from "../../src/scim/scan_gate.ts";
import { USER_TYPE } from "../../src/scim/schema.ts";
import { ScimStore } from "../../src/scim/store.ts";
import { type ScimTestContext, scimUser, startScim } from "./helpers.ts";

let t: ScimTestContext;
beforeAll(async () => {
  t = await startScim();
});
afterAll(async () => {
  await t?.stop();
});
beforeEach(async () => {
  await t.client.flushdb();
});

const find = async (filter: string): Promise<string[]> => {
  const res = await t.request("GET", `/Users?filter=${encodeURIComponent(filter)}`);
  expect(res.status).toBe(200);
  expect(res.body.totalResults).toBe(res.body.Resources.length);
  return res.body.Resources.map((r: { id: string }) => r.id);
};
const create = async (email: string, extra: Record<string, unknown> = {}): Promise<string> => {
  const res = await t.request("POST", "/Users", scimUser(email, extra));
  expect(res.status).toBe(201);
  return res.body.id;
};
const indexOf = () => t.client.zrange("sync:scim:ix:User", "0", "-1");

describe("SCIM lookup index", () => {
  it("finds users by externalId (exact) and by email (any case, three spellings)", async () => {
    const ada = await create("ada@example.com", { externalId: "00u-ADA" });
    await create("bob@example.com", { externalId: "00u-bob" });
    expect(await find('externalId eq "00u-ADA"')).toEqual([ada]);
    expect(await find('externalId eq "00u-ada"')).toEqual([]); // caseExact (RFC 7643 §3.1)
    expect(await find('emails.value eq "ADA@Example.com"')).toEqual([ada]);
    expect(await find('emails[value eq "Ada@EXAMPLE.com"]')).toEqual([ada]);
    expect(await find('emails[type eq "work" and value eq "ada@example.com"]')).toEqual([ada]);
    expect(await find('emails eq "ada@example.com"')).toEqual([ada]);
    expect(await find('externalId eq "00u-ADA" and active eq false')).toEqual([]);
    expect(await indexOf()).toContain(`emails.value\0ada@example.com\0${ada}`);
  });

  it("answers from the index, not from a scan", async () => {
    const ada = await create("ada@example.com", { externalId: "x-1" });
    await t.client.zrem("sync:scim:ix:User", `externalId\0x-1\0${ada}`);
    expect(await find('externalId eq "x-1"')).toEqual([]);
    expect(await find('externalId co "x-1"')).toEqual([ada]); // a scan still sees it
  });

  it("returns every holder of a shared value, in creation order", async () => {
    const a = await create("a@example.com", { emails: [{ value: "team@example.com" }] });
    const b = await create("b@example.com", { emails: [{ value: "TEAM@example.com" }] });
    expect(await find('emails.value eq "team@example.com"')).toEqual([a, b]);
  });

  it("follows an email change by PUT and PATCH, an externalId rename, and a delete", async () => {
    const id = await create("old@example.com", { externalId: "e-1" });
    const put = await t.request(
      "PUT",
      `/Users/${id}`,
      scimUser("old@example.com", {
        externalId: "e-1",
        emails: [{ value: "new@example.com", primary: true }],
      }),
    );
    expect(put.status).toBe(200);
    expect(await find('emails.value eq "old@example.com"')).toEqual([]);
    expect(await find('emails.value eq "new@example.com"')).toEqual([id]);

    const patch = await t.request("PATCH", `/Users/${id}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [
        { op: "replace", path: 'emails[value eq "new@example.com"].value', value: "x@example.com" },
        { op: "replace", path: "externalId", value: "e-2" },
      ],
    });
    expect(patch.status).toBe(200);
    expect(await find('emails[value eq "new@example.com"]')).toEqual([]);
    expect(await find('emails[value eq "x@example.com"]')).toEqual([id]);
    expect(await find('externalId eq "e-1"')).toEqual([]);
    expect(await find('externalId eq "e-2"')).toEqual([id]);

    expect((await t.request("DELETE", `/Users/${id}`)).status).toBe(204);
    expect(await find('externalId eq "e-2"')).toEqual([]);
    expect(await indexOf()).toEqual([]);
  });

  it("indexes groups by externalId", async () => {
    const res = await t.request("POST", "/Groups", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      displayName: "Eng",
      externalId: "grp-9",
    });
    const found = await t.request(
      "GET",
      `/Groups?filter=${encodeURIComponent('externalId eq "grp-9"')}`,
    );
    expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([res.body.id]);
  });

  it("builds the index once for users stored before it existed", async () => {
    const ada = await create("ada@example.com", { externalId: "old-1" });
    await t.client.del("sync:scim:ix:User", "sync:scim:ixready:User");
    const fresh = new ScimStore(t.client); // a new process, after the upgrade
    const q = parseListQuery(USER_TYPE, new URLSearchParams({ filter: 'externalId eq "old-1"' }));
    const { page } = await findResources(fresh, USER_TYPE, q);
    expect(page.map((r) => r.doc.id)).toEqual([ada]);
    expect(await t.client.get("sync:scim:ixready:User")).toBe("1");
  });
});

describe("unindexed filters", () => {
  it("walk the store in pages and keep only the requested window", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await create(`u${i}@paged.example`));
    await create("other@elsewhere.example");
    const q = parseListQuery(
      USER_TYPE,
      new URLSearchParams({ filter: 'userName ew "@paged.example"', startIndex: "3", count: "3" }),
    );
    const { total, page } = await findResources(t.store, USER_TYPE, q, { pageSize: 2 });
    expect(total).toBe(7);
    expect(page.map((r) => r.doc.id)).toEqual(ids.slice(2, 5));
  });

  it("run no more than the gate allows at once, and free the slot on error", async () => {
    const gate = new ScanGate({ maxConcurrent: 2 });
    let running = 0;
    let most = 0;
    const scan = async (fail: boolean) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (fail) throw new Error("boom");
      return 1;
    };
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => gate.run(() => scan(i === 0))),
    );
    expect(most).toBe(2);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    expect(gate.running).toBe(0);
    expect(() => new ScanGate({ maxConcurrent: 0 })).toThrow(RangeError);
  });
});
