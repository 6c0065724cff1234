/**
 * Valid events carrying nasty Unicode (lone surrogates, NUL, bidi overrides, emoji, combining
 * marks) in every text field. Each must be either stored exactly as sent (202) or refused with
 * a 400 that names the field; never a 5xx, which would make the IdP deliver it forever.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { loadConfig } from "../../src/config/config.ts";
import { DEFAULT_MAPPING } from "../../src/config/mapping.ts";
import { createLogger } from "../../src/log.ts";
import { type Service, startService } from "../../src/service.ts";
import { EVENTS_TOKEN } from "../_support/harness.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";
import { NASTY_STRINGS } from "./_lib/random.ts";

let redis: TestRedis;
let service: Service;
let probe: Redis;

beforeAll(async () => {
  redis = await startRedis();
  probe = new Redis(redis.url);
  service = await startService(
    loadConfig({ REDIS_URL: redis.url, EVENTS_TOKEN, PORT: "0", HOST: "127.0.0.1" }, "api"),
    DEFAULT_MAPPING,
    createLogger({ level: "silent" }),
  );
});
afterAll(async () => {
  probe?.disconnect();
  await service?.stop();
  await redis?.stop();
});

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await service.app!.request("/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${EVENTS_TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** A 400 must name at least one field by path; a 202 must have accepted the event. */
function judge(r: { status: number; json: Record<string, unknown> }): string | undefined {
  if (r.status === 400) {
    const issues = r.json.issues as { path: string }[] | undefined;
    return issues?.length && issues.every((i) => i.path && i.path !== "(body)")
      ? undefined
      : `400 without field paths: ${JSON.stringify(r.json)}`;
  }
  if (r.status !== 202) return `status ${r.status}: ${JSON.stringify(r.json)}`;
  return r.json.accepted === 1 ? undefined : `not accepted: ${JSON.stringify(r.json)}`;
}

const CASES = NASTY_STRINGS.filter((s) => s.length <= 200).map((s, i) => [i, s] as const);

describe("nasty Unicode in valid events", () => {
  it.each(CASES)(
    "user fields with string #%i: stored verbatim or refused by name",
    async (i, s) => {
      const id = `uni-user-${i}-${s}`;
      const r = await post({
        id: `uni-evt-user-${i}-${s}`,
        type: "user.created",
        data: {
          id,
          userName: `u${i}@example.com`,
          externalId: s,
          displayName: s,
          name: { givenName: s, familyName: `${s}!` },
        },
      });
      expect(judge(r)).toBeUndefined();
      if (r.status !== 202) return;
      const stored = JSON.parse((await probe.get(`sync:user:${id}`))!);
      expect(stored).toMatchObject({
        id,
        externalId: s,
        displayName: s,
        firstName: s,
        lastName: `${s}!`,
      });
    },
  );

  it.each(CASES)(
    "group fields with string #%i: stored verbatim or refused by name",
    async (i, s) => {
      const id = `uni-group-${i}-${s}`;
      const r = await post({
        id: `uni-evt-group-${i}-${s}`,
        type: "group.created",
        data: { id, displayName: `g ${s}`, members: [{ value: `member-${s}` }] },
      });
      expect(judge(r)).toBeUndefined();
      if (r.status !== 202) return;
      expect(JSON.parse((await probe.get(`sync:group:${id}`))!).displayName).toBe(`g ${s}`);
      expect(await probe.hkeys(`sync:members:${id}`)).toEqual([`member-${s}`]);
    },
  );
});
