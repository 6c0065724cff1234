/**
 * The fields of an event that the sync maps to IONOS, and nothing else: what the event log may
 * keep. An allow-list, so a field nobody thought of (`credentials.value`, a phone number, a
 * custom attribute) is never stored, where the old blocklist of secret-looking names let them by.
 * The fields are those `normalizeEvent` (src/store/wanted_state.ts) and `userEmail` read, so a
 * replay of a logged event changes the wanted state exactly as the original did.
 */
import type { SyncEvent } from "../../events/event.ts";

type Obj = Record<string, unknown>;

/** Copies the listed keys that are present (not undefined). */
function pick(o: Obj | undefined, keys: readonly string[]): Obj {
  const out: Obj = {};
  if (!o) return out;
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

const members = (list: unknown): Obj[] | undefined =>
  Array.isArray(list) ? list.map((m) => pick(m as Obj, ["value"])) : undefined;

/**
 * A copy of `event` with only its mapped fields.
 *
 * @example
 * mappedFields({ id: "e1", type: "user.deleted", data: { id: "u1", phone: "+49..." } });
 * // { id: "e1", type: "user.deleted", data: { id: "u1" } }
 */
export function mappedFields(event: SyncEvent): SyncEvent {
  const head = pick(event as unknown as Obj, ["id", "type", "time"]);
  const d = event.data as Obj;
  let data: Obj;
  switch (event.type) {
    case "user.created":
    case "user.updated":
    case "user.deactivated":
    case "user.reactivated": {
      data = pick(d, ["id", "userName", "externalId", "displayName", "active"]);
      const name = pick(d.name as Obj | undefined, ["givenName", "familyName"]);
      if (Object.keys(name).length) data.name = name;
      if (Array.isArray(d.emails)) {
        data.emails = d.emails.map((e) => pick(e as Obj, ["value", "primary"]));
      }
      break;
    }
    case "group.created":
    case "group.updated": {
      data = pick(d, ["id", "displayName", "externalId"]);
      const m = members(d.members);
      if (m) data.members = m;
      break;
    }
    case "group.members.added":
    case "group.members.removed":
      data = { groupId: d.groupId, members: members(d.members) ?? [] };
      break;
    default:
      data = pick(d, ["id"]);
  }
  return { ...head, data } as SyncEvent;
}
