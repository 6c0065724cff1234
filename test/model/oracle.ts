/**
 * The oracle: the final wanted state a history must lead to, computed from the events alone and
 * independent of the order they arrive in (docs/spec of issue 8, "Wanted state"):
 * - users and groups: the event with the latest `time` wins;
 * - a membership pair (g, u) ends as the latest (by time) of: add/remove events naming it, full
 *   member lists of g (present iff listed), deletes of g and deletes of u (absent).
 */
import { matchesAny } from "../../src/config/mapping.ts";
import type { HistoryEvent, IdpModel, MappingSpec } from "./generator.ts";

/** Trimmed, NFC, lower case: how the spec compares emails. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize("NFC").toLowerCase();
}

export interface WantedUser {
  id: string;
  alive: boolean;
  /** Normalized. */
  email: string;
  given: string;
  family: string;
  active: boolean;
  /** Alive and a member of an alive group whose name matches `administrators`. */
  admin: boolean;
}

export interface WantedGroup {
  id: string;
  alive: boolean;
  name: string;
  /** Alive and its name matches `groups.include`. */
  inScope: boolean;
}

export interface Wanted {
  users: Map<string, WantedUser>;
  groups: Map<string, WantedGroup>;
  /** Present membership pairs: group id -> user ids. */
  members: Map<string, Set<string>>;
  /** Every normalized email each user had in any event (for judging reported conflicts). */
  emailsHeld: Map<string, Set<string>>;
  /** Every name each group had in any event. */
  namesHeld: Map<string, Set<string>>;
  /** Users with at least one user.deleted event. */
  everDeleted: Set<string>;
}

type Data = Record<string, unknown> & { id?: string; groupId?: string };
const data = (e: HistoryEvent) => e.body.data as Data;
const type = (e: HistoryEvent) => e.body.type as string;
const memberIds = (d: Data) => ((d.members ?? []) as { value: string }[]).map((m) => m.value);

/** Computes the wanted state of a history; the order of `events` does not matter. */
export function computeWanted(events: readonly HistoryEvent[], mapping: MappingSpec): Wanted {
  const byTime = [...events].sort((a, b) => a.time - b.time);
  const users = new Map<string, WantedUser>();
  const groups = new Map<string, WantedGroup>();
  const emailsHeld = new Map<string, Set<string>>();
  const namesHeld = new Map<string, Set<string>>();
  const everDeleted = new Set<string>();
  /** "g\0u" -> [time, present] of the latest change that decides the pair. */
  const pairs = new Map<string, [number, boolean]>();
  const setPair = (g: string, u: string, t: number, present: boolean) => {
    const cur = pairs.get(`${g}\0${u}`);
    if (!cur || cur[0] < t) pairs.set(`${g}\0${u}`, [t, present]);
  };
  const usersSeen = new Set<string>();
  const groupsSeen = new Set<string>();
  for (const e of byTime) {
    const d = data(e);
    if (type(e).startsWith("user.")) usersSeen.add(d.id!);
    else if (type(e).startsWith("group.members.")) {
      groupsSeen.add(d.groupId!);
      memberIds(d).forEach((u) => usersSeen.add(u));
    } else {
      groupsSeen.add(d.id!);
      memberIds(d).forEach((u) => usersSeen.add(u));
    }
  }

  // Entities: newest wins (events are distinct in time, so "latest" is unambiguous).
  for (const e of byTime) {
    const d = data(e);
    const t = type(e);
    if (t === "user.deleted") {
      const prev = users.get(d.id!);
      everDeleted.add(d.id!);
      users.set(d.id!, {
        id: d.id!,
        alive: false,
        email: prev?.email ?? "",
        given: prev?.given ?? "",
        family: prev?.family ?? "",
        active: false,
        admin: false,
      });
    } else if (t.startsWith("user.")) {
      const email = normalizeEmail((d.emails as { value: string }[])[0]!.value);
      const name = d.name as { givenName: string; familyName: string };
      const active = t === "user.deactivated"
        ? false
        : t === "user.reactivated"
        ? true
        : !!d.active;
      users.set(d.id!, {
        id: d.id!,
        alive: true,
        email,
        given: name.givenName,
        family: name.familyName,
        active,
        admin: false,
      });
      setOf(emailsHeld, d.id!).add(email);
    } else if (t === "group.deleted") {
      const prev = groups.get(d.id!);
      groups.set(d.id!, { id: d.id!, alive: false, name: prev?.name ?? "", inScope: false });
    } else if (t === "group.created" || t === "group.updated") {
      const name = d.displayName as string;
      groups.set(d.id!, {
        id: d.id!,
        alive: true,
        name,
        inScope: matchesAny(mapping.groups.include, name),
      });
      setOf(namesHeld, d.id!).add(name);
    }
  }

  // Membership pairs: the latest deciding change, whatever order the events came in.
  for (const e of byTime) {
    const d = data(e);
    const t = type(e);
    if (t === "group.members.added" || t === "group.members.removed") {
      for (const u of memberIds(d)) setPair(d.groupId!, u, e.time, t === "group.members.added");
    } else if ((t === "group.created" || t === "group.updated") && d.members) {
      const listed = new Set(memberIds(d));
      for (const u of usersSeen) setPair(d.id!, u, e.time, listed.has(u));
    } else if (t === "group.deleted") {
      for (const u of usersSeen) setPair(d.id!, u, e.time, false);
    } else if (t === "user.deleted") {
      for (const g of groupsSeen) setPair(g, d.id!, e.time, false);
    }
  }
  const members = new Map<string, Set<string>>();
  for (const [key, [, present]] of pairs) {
    if (!present) continue;
    const [g, u] = key.split("\0") as [string, string];
    setOf(members, g).add(u);
  }

  for (const u of users.values()) {
    u.admin = u.alive &&
      [...groups.values()].some((g) =>
        g.alive && matchesAny(mapping.administrators, g.name) && !!members.get(g.id)?.has(u.id)
      );
  }
  return { users, groups, members, emailsHeld, namesHeld, everDeleted };
}

/** Whether the pair (g, u) should be an IONOS membership, given that u has an account. */
export function expectedMember(w: Wanted, g: string, u: string): boolean {
  return !!w.groups.get(g)?.inScope && !!w.users.get(u)?.alive && !!w.members.get(g)?.has(u);
}

/**
 * Self-check: for a realistic history the spec's order-independent rules must give what the
 * IdP itself ends with. Returns the differences (empty when they agree).
 */
export function compareWithIdp(w: Wanted, idp: IdpModel): string[] {
  const out: string[] = [];
  for (const [id, u] of idp.users) {
    const o = w.users.get(id);
    if (!o || o.alive !== u.alive) out.push(`user ${id}: alive ${o?.alive} vs IdP ${u.alive}`);
    else if (u.alive) {
      if (o.email !== normalizeEmail(u.email)) {
        out.push(`user ${id}: email ${o.email} vs ${u.email}`);
      }
      if (o.active !== u.active) out.push(`user ${id}: active ${o.active} vs ${u.active}`);
    }
  }
  for (const [id, g] of idp.groups) {
    const o = w.groups.get(id);
    if (!o || o.alive !== g.alive) out.push(`group ${id}: alive ${o?.alive} vs IdP ${g.alive}`);
    else if (g.alive && o.name !== g.name) out.push(`group ${id}: name ${o.name} vs ${g.name}`);
    const mine = [...(w.members.get(id) ?? [])].sort();
    const theirs = [...g.members].sort();
    if (mine.join() !== theirs.join()) {
      out.push(`group ${id}: members [${mine}] vs IdP [${theirs}]`);
    }
  }
  return out;
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let s = map.get(key);
  if (!s) map.set(key, s = new Set());
  return s;
}
