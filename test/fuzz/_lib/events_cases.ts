/**
 * Hostile requests for `POST /events`: invalid events, malformed bodies, wrong credentials,
 * bad and replayed Standard Webhooks signatures, wrong media types and methods.
 */
import { signStandardWebhook } from "../../../src/intake/auth/standard_webhooks.ts";
import { type FuzzCase, oversizedBody } from "./cases.ts";
import {
  type FieldSpec,
  invalidVariant,
  malformedBody,
  renderJson,
  str,
  type Template,
} from "./json_mutations.ts";
import type { Rng } from "./random.ts";

const JSON_TYPE = { "content-type": "application/json" };

const USER = {
  id: "fz-e-user",
  type: "user.created",
  time: "2026-11-21T10:00:00Z",
  data: {
    id: "fz-u-1",
    userName: "fz1@example.com",
    externalId: "ext-1",
    displayName: "Fuzz One",
    name: { givenName: "Fuzz", familyName: "One" },
    emails: [{ value: "fz1@example.com", primary: true, type: "work" }],
    active: true,
  },
};
const GROUP = {
  id: "fz-e-group",
  type: "group.created",
  data: { id: "fz-g-1", displayName: "fuzz-group", members: [{ value: "fz-u-1" }] },
};
const MEMBERS = {
  id: "fz-e-members",
  type: "group.members.added",
  data: { groupId: "fz-g-1", members: [{ value: "fz-u-1" }] },
};
const DELETED = { id: "fz-e-del", type: "user.deleted", data: { id: "fz-u-1" } };

const common = (p: FieldSpec["path"]): FieldSpec[] => [
  str([...p, "id"], 256, true),
  { path: [...p, "type"], kind: "enum", required: true },
  { path: [...p, "data"], kind: "object", required: true },
];

/** Each template with the fields whose breaking makes it invalid. */
const TEMPLATES: Template[] = [
  {
    value: USER,
    fields: [
      ...common([]),
      { path: ["time"], kind: "datetime" },
      str(["data", "id"], 256, true),
      str(["data", "userName"], 1024),
      str(["data", "externalId"], 1024),
      str(["data", "displayName"], 1024),
      { path: ["data", "name"], kind: "object" },
      str(["data", "name", "givenName"], 1024),
      { path: ["data", "emails"], kind: "array", max: 100 },
      str(["data", "emails", 0, "value"], 1024, true),
      { path: ["data", "emails", 0, "primary"], kind: "boolean" },
      { path: ["data", "active"], kind: "boolean" },
    ],
  },
  {
    value: GROUP,
    fields: [
      ...common([]),
      str(["data", "id"], 256, true),
      str(["data", "displayName"], 1024, true),
      { path: ["data", "members"], kind: "array" },
      str(["data", "members", 0, "value"], 256, true),
    ],
  },
  {
    value: MEMBERS,
    fields: [
      ...common([]),
      str(["data", "groupId"], 256, true),
      { path: ["data", "members"], kind: "array", required: true },
      str(["data", "members", 0, "value"], 256, true),
    ],
  },
  { value: DELETED, fields: [...common([]), str(["data", "id"], 256, true)] },
  {
    // One bad event must sink the whole batch: nothing of the good ones may be stored.
    value: { events: [USER, GROUP, MEMBERS, DELETED] },
    fields: [
      { path: ["events"], kind: "array", required: true, max: 1000 },
      ...common(["events", 0]),
      str(["events", 0, "data", "id"], 256, true),
      str(["events", 1, "data", "displayName"], 1024, true),
      str(["events", 2, "data", "members", 0, "value"], 256, true),
      str(["events", 3, "data", "id"], 256, true),
    ],
  },
];

export interface EventsFuzzOptions {
  eventsToken: string;
  /** Standard Webhooks secret (`whsec_...`). */
  webhookSecret: string;
  /** Other surfaces' tokens, which must not open /events. */
  otherTokens: string[];
  bodyLimitBytes: number;
}

/**
 * `count` invalid-event and malformed-body cases with the right bearer token, plus a fixed
 * set of credential, signature, media type and method cases.
 */
export async function eventsCases(
  rng: Rng,
  count: number,
  options: EventsFuzzOptions,
): Promise<FuzzCase[]> {
  const bearer = { ...JSON_TYPE, authorization: `Bearer ${options.eventsToken}` };
  const post = (
    kind: string,
    body: string | Uint8Array<ArrayBuffer>,
    headers: Record<string, string> = bearer,
  ): FuzzCase => ({
    kind,
    method: "POST",
    path: "/events",
    headers,
    body,
    expect: "reject",
  });
  const cases: FuzzCase[] = [];
  for (let i = 0; i < count; i++) {
    const t = rng.pick(TEMPLATES);
    const v = invalidVariant(rng, t.value, t.fields, 300_000);
    if (rng.chance(0.2)) {
      const m = malformedBody(rng, JSON.stringify(t.value), renderJson(v.value));
      cases.push(post(m.kind, m.body));
    } else {
      cases.push(post(v.kind, renderJson(v.value)));
    }
  }
  // 1001 events, each valid: only the count is wrong.
  const many = Array.from({ length: 1001 }, (_, i) => ({ ...DELETED, id: `fz-many-${i}` }));
  cases.push(post("too many events", JSON.stringify({ events: many })));
  for (const extra of [1, 1024, 4 * 1024 * 1024]) {
    cases.push(post("over the body limit", oversizedBody(options.bodyLimitBytes, extra)));
  }

  const valid = JSON.stringify(USER);
  for (const [kind, headers] of credentialCases(options)) {
    cases.push(post(kind, valid, { ...JSON_TYPE, ...headers }));
  }
  for (const [kind, headers] of await signatureCases(options.webhookSecret, valid)) {
    cases.push(post(kind, valid, { ...JSON_TYPE, ...headers }));
  }
  for (const type of ["", "text/plain", "application/xml", "multipart/form-data", "jsonx"]) {
    const headers: Record<string, string> = { authorization: bearer.authorization };
    if (type) headers["content-type"] = type;
    cases.push(post("wrong media type", valid, headers));
  }
  for (const method of ["GET", "PUT", "PATCH", "DELETE"]) {
    cases.push({ ...post("wrong method", valid), method });
  }
  return cases;
}

function credentialCases(options: EventsFuzzOptions): [string, Record<string, string>][] {
  const t = options.eventsToken;
  return [
    ["no credentials", {}],
    ["wrong bearer", { authorization: "Bearer wrong-token-wrong-token" }],
    ["token with a suffix", { authorization: `Bearer ${t}x` }],
    ["token cut short", { authorization: `Bearer ${t.slice(0, -1)}` }],
    ["token without scheme", { authorization: t }],
    ["token as Basic", { authorization: `Basic ${btoa(`events:${t}`)}` }],
    ["huge token", { authorization: `Bearer ${"A".repeat(16 * 1024)}` }],
    ["token in another header", { "x-api-key": t }],
    ...options.otherTokens.map((o): [string, Record<string, string>] => [
      "another surface's token",
      { authorization: `Bearer ${o}` },
    ]),
  ];
}

/** Standard Webhooks headers that must all be refused for `body`. */
async function signatureCases(
  secret: string,
  body: string,
): Promise<[string, Record<string, string>][]> {
  const now = Math.floor(Date.now() / 1000);
  const sign = (id: string, ts: number | string, b = body, s = secret) =>
    signStandardWebhook(s, id, String(ts), b);
  const headers = (id: string, ts: number | string, signature: string) => ({
    "webhook-id": id,
    "webhook-timestamp": String(ts),
    "webhook-signature": signature,
  });
  const good = await sign("msg_fz", now);
  return [
    ["forged signature", headers("msg_fz", now, `v1,${btoa("x".repeat(32))}`)],
    ["signature of another body", headers("msg_fz", now, await sign("msg_fz", now, "{}"))],
    ["signature for another id", headers("msg_other", now, good)],
    ["signature for another time", headers("msg_fz", now + 1, good)],
    [
      "signature with another secret",
      headers("msg_fz", now, await sign("msg_fz", now, body, "whsec_b3RoZXItc2VjcmV0LWJ5dGVz")),
    ],
    ["stale timestamp", headers("msg_fz", now - 600, await sign("msg_fz", now - 600))],
    ["future timestamp", headers("msg_fz", now + 600, await sign("msg_fz", now + 600))],
    ["malformed timestamp", headers("msg_fz", "1e9", await sign("msg_fz", "1e9"))],
    ["negative timestamp", headers("msg_fz", "-1", await sign("msg_fz", "-1"))],
    ["huge timestamp", headers("msg_fz", "9".repeat(40), await sign("msg_fz", "9".repeat(40)))],
    ["missing webhook-id", { ...headers("", now, good) }],
    ["wrong version", headers("msg_fz", now, good.replace("v1,", "v2,"))],
    ["no version", headers("msg_fz", now, good.slice(3))],
    ["many wrong signatures", headers("msg_fz", now, Array(200).fill("v1,AAAA").join(" "))],
    ["huge signature", headers("msg_fz", now, `v1,${"A".repeat(32 * 1024)}`)],
    ["empty signature", headers("msg_fz", now, "")],
  ];
}
