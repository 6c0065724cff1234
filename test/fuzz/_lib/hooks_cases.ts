/**
 * Hostile requests for the identity-provider webhooks (`/hooks/workos`, `/hooks/keycloak`):
 * unsigned and badly signed deliveries, and correctly signed ones whose payload is invalid,
 * as a compromised or buggy IdP might send. Payloads keep a type the adapter acts on: an
 * unknown type is acknowledged and counted by design, which is not what is tested here.
 */
import { signKeycloakPayload } from "../../../src/adapters/keycloak/signature.ts";
import { signWorkosPayload } from "../../../src/adapters/workos/signature.ts";
import type { FuzzCase } from "./cases.ts";
import {
  type FieldSpec,
  invalidVariant,
  malformedBody,
  renderJson,
  str,
  type Template,
} from "./json_mutations.ts";
import type { Rng } from "./random.ts";

const WORKOS_USER = {
  id: "event_fz_1",
  event: "dsync.user.created",
  data: {
    id: "directory_user_fz",
    username: "wz@example.com",
    emails: [{ value: "wz@example.com", primary: true }],
    first_name: "Work",
    last_name: "Os",
    state: "active",
  },
  created_at: "2026-11-21T10:00:00.000Z",
};
const WORKOS_MEMBER = {
  id: "event_fz_2",
  event: "dsync.group.user_added",
  data: {
    user: { id: "directory_user_fz", emails: [{ value: "wz@example.com", primary: true }] },
    group: { id: "directory_group_fz", name: "fz" },
  },
};
/** `event` only loses its type, never gets another string: that would be an unknown type. */
const event: FieldSpec = { path: ["event"], kind: "string", required: true };

const WORKOS: Template[] = [
  {
    value: WORKOS_USER,
    fields: [
      str(["id"], 200, true),
      event,
      { path: ["data"], kind: "object", required: true },
      str(["data", "id"], 256, true),
      str(["data", "username"], 1024),
      { path: ["data", "emails"], kind: "array", max: 100 },
      str(["data", "emails", 0, "value"], 1024, true),
      str(["data", "first_name"], 1024),
      { path: ["created_at"], kind: "string" },
    ],
  },
  {
    value: WORKOS_MEMBER,
    fields: [
      str(["id"], 200, true),
      event,
      { path: ["data", "user"], kind: "object", required: true },
      str(["data", "user", "id"], 256, true),
      { path: ["data", "group"], kind: "object", required: true },
      str(["data", "group", "id"], 256, true),
      str(["data", "group", "name"], 1024, true),
    ],
  },
];

const KEYCLOAK_USER = {
  uid: "kc-fz-1",
  time: 1_763_719_200_000,
  type: "admin.USER-CREATE",
  resourceType: "USER",
  operationType: "CREATE",
  resourcePath: "users/kc-user-fz",
  representation: {
    id: "kc-user-fz",
    username: "kz@example.com",
    email: "kz@example.com",
    firstName: "Key",
    lastName: "Cloak",
    enabled: true,
  },
};
/** Present but of the wrong type: missing, they would make the event an ignored one. */
const kind = (path: string): FieldSpec => ({ path: [path], kind: "string" });

const KEYCLOAK: Template[] = [{
  value: KEYCLOAK_USER,
  fields: [
    str(["uid"], 200),
    { path: ["time"], kind: "number" },
    kind("resourceType"),
    kind("operationType"),
    str(["resourcePath"], 2000),
    { path: ["representation"], kind: "object", wrong: [42, true, [1], [[]]] },
    str(["representation", "username"], 1024),
    str(["representation", "email"], 1024),
    str(["representation", "firstName"], 1024),
    { path: ["representation", "enabled"], kind: "boolean" },
  ],
}];

export interface HooksFuzzOptions {
  workosSecret: string;
  keycloakSecret: string;
}

export async function hooksCases(
  rng: Rng,
  count: number,
  options: HooksFuzzOptions,
): Promise<FuzzCase[]> {
  const hooks = [
    {
      path: "/hooks/workos",
      templates: WORKOS,
      sign: async (body: string, t = String(Date.now())) => ({
        "workos-signature": `t=${t}, v1=${await signWorkosPayload(options.workosSecret, t, body)}`,
      }),
      // WorkOS needs an envelope with an id, so any JSON object without one is invalid.
      exclude: new Set<string>(),
    },
    {
      path: "/hooks/keycloak",
      templates: KEYCLOAK,
      sign: async (body: string) => ({
        "x-keycloak-signature": await signKeycloakPayload(options.keycloakSecret, body),
      }),
      // A JSON object without resourceType is a login or similar event: ignored by design.
      exclude: new Set(["many keys", "deep objects"]),
    },
  ];
  const cases: FuzzCase[] = [];
  const post = (
    kind: string,
    path: string,
    headers: Record<string, string>,
    body: string | Uint8Array<ArrayBuffer>,
  ): FuzzCase => ({
    kind,
    method: "POST",
    path,
    headers: { "content-type": "application/json", ...headers },
    body,
    expect: "reject",
  });
  for (let i = 0; i < count; i++) {
    const hook = rng.pick(hooks);
    const t = rng.pick(hook.templates);
    const v = invalidVariant(rng, t.value, t.fields, 300_000);
    let kind = v.kind;
    let body: string | Uint8Array<ArrayBuffer> = renderJson(v.value);
    if (rng.chance(0.25)) {
      const m = malformedBody(rng, JSON.stringify(t.value), renderJson(v.value));
      if (!hook.exclude.has(m.kind)) [kind, body] = [m.kind, m.body];
    }
    // The signature is over the text the server will see.
    const text = typeof body === "string" ? body : new TextDecoder().decode(body);
    cases.push(post(`signed: ${kind}`, hook.path, await hook.sign(text), body));
  }
  const now = Date.now();
  const wBody = JSON.stringify(WORKOS_USER);
  const kBody = JSON.stringify(KEYCLOAK_USER);
  const w = (h: string) =>
    post("bad WorkOS signature", "/hooks/workos", { "workos-signature": h }, wBody);
  const k = (h: Record<string, string>) =>
    post("bad Keycloak signature", "/hooks/keycloak", h, kBody);
  const wSig = await signWorkosPayload(options.workosSecret, String(now), wBody);
  const kSig = await signKeycloakPayload(options.keycloakSecret, kBody);
  cases.push(
    w(""),
    w(`t=${now}, v1=${"0".repeat(64)}`),
    w(`t=${now - 600_000}, v1=${await signWorkosPayload(
      options.workosSecret,
      String(now - 600_000),
      wBody,
    )}`),
    w(`t=${now + 1}, v1=${wSig}`),
    w(`v1=${wSig}`),
    w(`t=${now}`),
    w(`t=abc, v1=${wSig}`),
    w(`t=${now}, v1=${await signWorkosPayload("another-secret-0123456789", String(now), wBody)}`),
    w(`t=${now}, ${Array(500).fill("v1=00").join(", ")}`),
    w(`t=${now}, v1=${"a".repeat(32 * 1024)}`),
    post("no signature", "/hooks/workos", {}, wBody),
    post("no signature", "/hooks/keycloak", {}, kBody),
    k({ "x-keycloak-signature": "" }),
    k({ "x-keycloak-signature": "0".repeat(64) }),
    k({ "x-keycloak-signature": kSig.slice(0, -1) }),
    k({ "x-keycloak-signature": `sha1=${kSig}` }),
    k({ "x-keycloak-signature": await signKeycloakPayload(options.keycloakSecret, "{}") }),
    k({ "x-keycloak-signature": await signKeycloakPayload("another-secret-0123456789", kBody) }),
    k({ "x-keycloak-signature": "f".repeat(32 * 1024) }),
    // The WorkOS signature on the Keycloak endpoint and the other way round.
    post("other hook's signature", "/hooks/keycloak", {
      "workos-signature": `t=${now}, v1=${wSig}`,
    }, wBody),
    post("other hook's signature", "/hooks/workos", { "x-keycloak-signature": kSig }, kBody),
  );
  return cases;
}
