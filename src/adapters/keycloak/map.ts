/**
 * Keycloak admin events (as the p2-inc keycloak-events webhook sends them) -> SyncEvents.
 *
 * - USER CREATE / UPDATE / DELETE on `users/<id>`; the representation (a JSON string or object)
 *   holds username, email, firstName, lastName, enabled.
 * - GROUP CREATE / UPDATE / DELETE on `groups/<id>`; the representation holds id and name.
 * - GROUP_MEMBERSHIP CREATE / DELETE on `users/<uid>/groups/<gid>`.
 *
 * The admin REST API accepts partial user and group updates and the event carries only what was
 * sent, so fields missing from an UPDATE are taken from the wanted state we already hold; else a
 * `{"enabled": false}` update would erase the user's name and email.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { SyncEvent } from "../../events/event.ts";
import type { MapContext, MapResult } from "../webhook_route.ts";

const AdminEvent = z.looseObject({
  /** p2-inc's event id; Keycloak 23+ also has `id`. */
  uid: z.string().min(1).max(200).optional(),
  id: z.string().min(1).max(200).optional(),
  /** Milliseconds since the epoch. */
  time: z.number().int().nonnegative().optional(),
  /** `admin.USER-CREATE`, `access.LOGIN`, ... */
  type: z.string().max(200).optional(),
  resourceType: z.string().max(100).nullish(),
  operationType: z.string().max(100).nullish(),
  resourcePath: z.string().max(2000).nullish(),
  representation: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
  error: z.string().nullish(),
});

const text = z.string().max(1024);
const UserRep = z.looseObject({
  id: z.string().max(256).optional(),
  username: text.nullish(),
  email: text.nullish(),
  firstName: text.nullish(),
  lastName: text.nullish(),
  enabled: z.boolean().nullish(),
});
const GroupRep = z.looseObject({ id: z.string().max(256).optional(), name: text.nullish() });

const USER_PATH = /^users\/([^/]+)$/;
const GROUP_PATH = /^groups\/([^/]+)$/;
const MEMBERSHIP_PATH = /^users\/([^/]+)\/groups\/([^/]+)$/;

function representation(raw: unknown): Record<string, unknown> | undefined {
  if (raw === null || raw === undefined || raw === "") return undefined;
  if (typeof raw === "object") return raw as Record<string, unknown>;
  try {
    const parsed = JSON.parse(raw as string);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const invalid = (detail: string): MapResult => ({ kind: "invalid", detail });

/**
 * Maps one Keycloak webhook payload.
 *
 * @example
 * await mapKeycloakEvent({ uid: "e1", resourceType: "USER", operationType: "DELETE",
 *   resourcePath: "users/42" }, { store, rawBody })
 * // { kind: "events", events: [{ id: "keycloak-e1", type: "user.deleted", data: { id: "42" } }] }
 */
export async function mapKeycloakEvent(payload: unknown, ctx: MapContext): Promise<MapResult> {
  const parsed = AdminEvent.safeParse(payload);
  if (!parsed.success) return invalid(parsed.error.issues[0]?.message ?? "not an admin event");
  const e = parsed.data;
  const resource = e.resourceType ?? "";
  const operation = e.operationType ?? "";
  const typeName = e.type ?? (resource ? `admin.${resource}-${operation}` : "unknown");
  // Login and other user events have no resourceType; failed operations changed nothing.
  if (!resource || !operation || e.error) return { kind: "ignored", type: typeName };

  // Without an id of its own, the body's hash keeps retries of one delivery de-duplicated.
  const eventId = e.uid ?? e.id ?? createHash("sha256").update(ctx.rawBody).digest("hex");
  const base = {
    id: `keycloak-${eventId}`,
    ...(e.time !== undefined ? { time: new Date(e.time).toISOString() } : {}),
  };
  const path = (e.resourcePath ?? "").replace(/^\/+/, "");
  const rep = representation(e.representation);

  let candidate: Record<string, unknown>;
  if (resource === "USER" && ["CREATE", "UPDATE", "DELETE"].includes(operation)) {
    const r = UserRep.safeParse(rep ?? {});
    if (!r.success) return invalid(`representation: ${r.error.issues[0]?.message}`);
    const id = USER_PATH.exec(path)?.[1] ?? r.data.id;
    if (!id) return invalid(`no user id in resourcePath "${path}"`);
    if (operation === "DELETE") candidate = { ...base, type: "user.deleted", data: { id } };
    else {
      const data = await userData(id, r.data, operation === "UPDATE", ctx);
      candidate = { ...base, type: operation === "CREATE" ? "user.created" : "user.updated", data };
    }
  } else if (resource === "GROUP" && ["CREATE", "UPDATE", "DELETE"].includes(operation)) {
    const r = GroupRep.safeParse(rep ?? {});
    if (!r.success) return invalid(`representation: ${r.error.issues[0]?.message}`);
    // Sub-group creation is logged on `groups/<parent>/children`: the representation's id wins.
    const id = r.data.id ?? GROUP_PATH.exec(path)?.[1];
    if (!id) return invalid(`no group id in resourcePath "${path}" or the representation`);
    if (operation === "DELETE") candidate = { ...base, type: "group.deleted", data: { id } };
    else {
      const name = r.data.name ?? (await ctx.store.getGroup(id))?.displayName;
      if (!name) return invalid("representation: the group has no name");
      candidate = {
        ...base,
        type: operation === "CREATE" ? "group.created" : "group.updated",
        data: { id, displayName: name },
      };
    }
  } else if (resource === "GROUP_MEMBERSHIP" && ["CREATE", "DELETE"].includes(operation)) {
    const m = MEMBERSHIP_PATH.exec(path);
    if (!m) return invalid(`resourcePath "${path}" is not users/<id>/groups/<id>`);
    candidate = {
      ...base,
      type: operation === "CREATE" ? "group.members.added" : "group.members.removed",
      data: { groupId: m[2], members: [{ value: m[1] }] },
    };
  } else {
    return { kind: "ignored", type: typeName };
  }

  const event = SyncEvent.safeParse(candidate);
  if (!event.success) {
    const i = event.error.issues[0]!;
    return invalid(`${i.path.join(".")}: ${i.message}`);
  }
  return { kind: "events", events: [event.data] };
}

/** The user in event-model form; on UPDATE, fields the event lacks come from the wanted state. */
async function userData(
  id: string,
  rep: z.infer<typeof UserRep>,
  partial: boolean,
  ctx: MapContext,
): Promise<Record<string, unknown>> {
  const known = partial ? await ctx.store.getUser(id) : undefined;
  const email = rep.email ?? known?.email;
  const userName = rep.username ?? known?.userName;
  const givenName = rep.firstName ?? known?.firstName;
  const familyName = rep.lastName ?? known?.lastName;
  const active = rep.enabled ?? (known && !known.deleted ? known.active : undefined);
  return {
    id,
    userName: userName || undefined,
    ...(email ? { emails: [{ value: email, primary: true }] } : {}),
    name: { givenName: givenName ?? null, familyName: familyName ?? null },
    active,
  };
}
