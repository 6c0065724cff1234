/**
 * The KEYS of one apply_events.lua call, in the order the script reads them, built from the
 * events themselves so the script names no key of its own (Redis Cluster needs every key in
 * KEYS). Ids the script finds only in stored relations come back as its `need` and are added
 * to the next call's keys (`ReachedIds`).
 */
import type { StoreKeys } from "./keys.ts";
import type { NormalizedEvent } from "./wanted_state.ts";

/** Ids reached through stored relations that an earlier call said it lacked. */
export interface ReachedIds {
  /** Groups of a deleted user: their group and members keys. */
  groups: readonly string[];
  /** Members of a group deleted or given a full list: their user-groups keys. */
  users: readonly string[];
}

/** What to pass: `keys` as KEYS, `ids` (JSON {u, m, g}) as the script's last ARGV. */
export interface ApplyKeys {
  keys: string[];
  ids: string;
}

/**
 * KEYS: outbox, member fences, users, groups, the delivery's seen key (if `deliveryId`), each
 * event's seen key, then user and user-groups keys per id of `u`, the user-groups key per id of
 * `m`, group and members keys per id of `g`.
 *
 * @example
 * const { keys, ids } = applyKeys(storeKeys("sync"), events, "", { groups: [], users: [] });
 */
export function applyKeys(
  keys: StoreKeys,
  events: readonly NormalizedEvent[],
  deliveryId: string,
  reached: ReachedIds,
): ApplyKeys {
  const users = new Set<string>();
  const members = new Set<string>();
  const groups = new Set<string>(reached.groups);
  for (const ev of events) {
    if (ev.k === "user") users.add(ev.id);
    else {
      groups.add(ev.id);
      if ("members" in ev && ev.members) { for (const uid of ev.members) members.add(uid); }
    }
  }
  for (const uid of reached.users) members.add(uid);
  const out = [keys.outbox, keys.memberFences, keys.users, keys.groups];
  if (deliveryId !== "") out.push(keys.seenDelivery(deliveryId));
  for (const ev of events) out.push(keys.seenEvent(ev.e));
  const u = [...users];
  for (const id of u) out.push(keys.user(id), keys.userGroups(id));
  const m = [...members].filter((id) => !users.has(id));
  for (const id of m) out.push(keys.userGroups(id));
  const g = [...groups];
  for (const id of g) out.push(keys.group(id), keys.members(id));
  return { keys: out, ids: JSON.stringify({ u, m, g }) };
}
