/**
 * The invariants of issue 8, checked on what IONOS (the simulator) and the service's records
 * hold once the queue has drained:
 * - (a) IONOS memberships of accounts the service manages equal the wanted memberships of alive
 *   in-scope groups (and accounts it no longer manages are in none of its groups);
 * - (b) no managed account is administrator or active unless the latest wanted state says so; an
 *   account no live IdP user owns is neither;
 * - (c) no IONOS account (or group) is bound to two live IdP users (or groups);
 * - (d) protected accounts are unchanged field for field, never written to, never bound, and no
 *   other account ever gets a protected email;
 * - (e) pre-existing accounts and groups are changed or deleted only where `adopt` allows;
 * - (f) no job is left failed except reported conflicts, and every conflict has a cause in the
 *   history;
 * - converge: users and groups without a conflict ended as wanted; no leaked accounts or groups;
 * - store: the service's wanted state in Redis is the oracle's, whatever the arrival order.
 */
import { globMatch, groupPrivileges, type Mapping } from "../../src/config/mapping.ts";
import { type ModelCase, UNKNOWN_RESOURCE } from "./generator.ts";
import type { AccessSnapshot } from "./access_invariants.ts";
import { expectedMember, normalizeEmail, type Wanted } from "./oracle.ts";

export interface Violation {
  /** "a".."f", "converge", "leak", "store", "intake" or "drain". */
  invariant: string;
  message: string;
}

/** An IONOS user as the simulator holds it, with the ids of its groups. */
export interface SimUser {
  id: string;
  firstname: string;
  lastname: string;
  email: string;
  administrator: boolean;
  forceSecAuth: boolean;
  secAuthActive: boolean;
  active: boolean;
  groups: string[];
}

export interface SimGroup {
  id: string;
  name: string;
  privileges: Record<string, boolean>;
  members: string[];
}

/** Everything the invariants look at. */
export interface Observed {
  users: Map<string, SimUser>;
  groups: Map<string, SimGroup>;
  /** The pre-existing accounts and groups as seeded, by generator key, and their access. */
  initial: {
    users: Map<string, SimUser>;
    groups: Map<string, SimGroup>;
    access: AccessSnapshot;
  };
  /** S3 keys and shares now. */
  access: AccessSnapshot;
  /** Every IONOS API call (no bodies). */
  calls: { method: string; path: string; status: number; fault?: string }[];
  /** `sync:ionos:user:<idp id>` / `sync:ionos:group:<idp id>` records. */
  userTwins: Map<string, Record<string, string>>;
  groupTwins: Map<string, Record<string, string>>;
  /** `sync:managed:users` / `sync:managed:groups`: IONOS id -> IdP id. */
  managedUsers: Map<string, string>;
  managedGroups: Map<string, string>;
  failed: { jobId: string; entity: string; reason: string }[];
  /** The service's wanted state in Redis (`sync:user:*`, `sync:group:*`, `sync:members:*`). */
  store: {
    users: Map<string, { email?: string; active?: boolean; deleted?: boolean }>;
    groups: Map<string, { displayName?: string; deleted?: boolean }>;
    /** Group id -> user ids whose pair is present ("1:<t>"). */
    members: Map<string, Set<string>>;
  };
}

const USER_FIELDS = [
  "firstname",
  "lastname",
  "email",
  "administrator",
  "forceSecAuth",
  "secAuthActive",
  "active",
] as const;

const CONFLICT = /conflict/i;

export interface CheckOptions {
  /**
   * Judge conflicts by the final state instead of the whole history: a conflict is justified
   * only if its cause still holds at the end (another live IdP user wants the email, an account
   * the user does not own has it, it is protected; for groups, another live in-scope IdP group
   * has the name or an unadoptable hand-made group does). The spec lets a transient clash (one
   * that only processing order created) end as a permanent conflict; this flags those.
   * @default false
   */
  strictConflicts?: boolean;
}

/** Checks every invariant; returns the violations (empty when all hold). */
export function checkInvariants(
  c: ModelCase,
  w: Wanted,
  o: Observed,
  options: CheckOptions = {},
): Violation[] {
  const { strictConflicts = false } = options;
  const out: Violation[] = [];
  const fail = (invariant: string, message: string) => out.push({ invariant, message });
  const m = c.mapping;
  const protectedEmails = new Set(m.protectedEmails.map(normalizeEmail));
  const isProtected = (email: string) => protectedEmails.has(normalizeEmail(email));
  const show = (id: string) => {
    const u = o.users.get(id);
    return u ? `${id.slice(0, 8)} <${u.email}>` : id.slice(0, 8);
  };

  // --- pre-existing accounts and groups, and what the service wrote to them
  const preUser = new Map<string, { key: string; initial: SimUser }>();
  for (const [key, initial] of o.initial.users) preUser.set(initial.id, { key, initial });
  const preGroup = new Map<string, { key: string; initial: SimGroup }>();
  for (const [key, initial] of o.initial.groups) preGroup.set(initial.id, { key, initial });
  const spec = (key: string) => c.preexisting.users.find((p) => p.key === key)!;

  const touchedUsers = new Set<string>();
  const touchedGroups = new Set<string>();
  for (const call of o.calls) {
    const applied = (call.status >= 200 && call.status < 300) || call.fault === "lostAnswer";
    if (!applied || call.method === "GET") continue;
    let x: RegExpMatchArray | null;
    if ((x = call.path.match(/\/um\/users\/([^/]+)$/))) touchedUsers.add(x[1]!);
    else if ((x = call.path.match(/\/um\/groups\/([^/]+)\/users\/([^/]+)$/))) {
      touchedGroups.add(x[1]!);
      touchedUsers.add(x[2]!);
    } else if ((x = call.path.match(/\/um\/groups\/([^/]+)(\/users)?$/))) touchedGroups.add(x[1]!);
  }
  const everHeld = (email: string) =>
    [...w.emailsHeld.values()].some((s) => s.has(normalizeEmail(email)));
  const mayAdopt = (key: string) => {
    const p = spec(key);
    if (isProtected(p.email)) return false;
    return m.adopt.users === "all" || (m.adopt.users === "non-admin" && !p.administrator);
  };

  // --- store: the service's own wanted state must be the oracle's (order independence)
  for (const want of w.users.values()) {
    const got = o.store.users.get(want.id);
    const alive = got ? !got.deleted : false;
    if (alive !== want.alive) {
      fail("store", `user ${want.id}: stored deleted=${got?.deleted}, wanted alive=${want.alive}`);
    } else if (
      alive && (normalizeEmail(got?.email ?? "") !== want.email || got?.active !== want.active)
    ) {
      fail(
        "store",
        `user ${want.id}: stored ${got?.email} active=${got?.active}, wanted ` +
          `${want.email} active=${want.active}`,
      );
    }
  }
  for (const g of w.groups.values()) {
    const got = o.store.groups.get(g.id);
    const alive = got ? !got.deleted : false;
    if (alive !== g.alive || (alive && got?.displayName !== g.name)) {
      fail(
        "store",
        `group ${g.id}: stored ${JSON.stringify(got)}, wanted alive=${g.alive} "${g.name}"`,
      );
    }
    const stored = [...(o.store.members.get(g.id) ?? [])].sort().join();
    const wanted = [...(w.members.get(g.id) ?? [])].sort().join();
    if (stored !== wanted) {
      fail("store", `group ${g.id}: stored members [${stored}], wanted [${wanted}]`);
    }
  }

  // --- (f) failed jobs, and conflicts: every one reported (a failed job), and those still
  // standing (the twin record says so; a later successful sync clears it)
  const conflicts = new Set<string>();
  const conflictsNow = new Set<string>();
  const otherFailures = new Set<string>();
  for (const f of o.failed) {
    if (CONFLICT.test(f.reason)) conflicts.add(f.entity);
    else {
      otherFailures.add(f.entity);
      fail("f", `job ${f.jobId} (${f.entity}) failed without a conflict: ${f.reason}`);
    }
  }
  for (const [kind, twins] of [["user", o.userTwins], ["group", o.groupTwins]] as const) {
    for (const [id, t] of twins) {
      if (t.state === "conflict" || CONFLICT.test(t.lastError ?? "")) {
        conflicts.add(`${kind}:${id}`);
        conflictsNow.add(`${kind}:${id}`);
      }
    }
  }
  const preEmails = new Set(c.preexisting.users.map((p) => normalizeEmail(p.email)));
  for (const entity of strictConflicts ? conflictsNow : conflicts) {
    const [kind, id] = entity.split(":") as ["user" | "group", string];
    if (strictConflicts) {
      const why = lastingConflictCause(c, w, o, kind, id, isProtected);
      if (why) fail("f", `${entity} ended as a conflict, but ${why}`);
      continue;
    }
    if (kind === "user") {
      const mine = [...(w.emailsHeld.get(id) ?? [])];
      const others = [...w.emailsHeld].filter(([u]) => u !== id).flatMap(([, s]) => [...s]);
      const cause = mine.some((e) => isProtected(e) || preEmails.has(e) || others.includes(e)) ||
        (w.everDeleted.has(id) && m.onUserDeleted === "deactivate");
      if (!cause) {
        fail(
          "f",
          `user ${id} reported a conflict, but none of its emails [${mine}] was ever ` +
            `protected, pre-existing or another IdP user's`,
        );
      }
    } else {
      const names = [...(w.namesHeld.get(id) ?? [])];
      const others = [...w.namesHeld].filter(([g]) => g !== id).flatMap(([, s]) => [...s]);
      const cause = names.some((n) => others.includes(n)) || (!m.adopt.groups &&
        names.some((n) => c.preexisting.groups.some((g) => g.name === n))) ||
        names.some((n) => sharesUnknown(c, n));
      if (!cause) {
        fail("f", `group ${id} reported a conflict, but no cause in its names [${names}]`);
      }
    }
  }

  // --- (c) one account, one owner (among live IdP users)
  const boundTo = new Map<string, string[]>();
  for (const [u, t] of o.userTwins) {
    if (!w.users.get(u)?.alive || !t.ionosId) continue;
    boundTo.set(t.ionosId, [...(boundTo.get(t.ionosId) ?? []), u]);
    const indexed = o.managedUsers.get(t.ionosId);
    if (indexed !== undefined && indexed !== u) {
      fail(
        "c",
        `user ${u}'s twin is ${show(t.ionosId)}, which sync:managed:users gives to ${indexed}`,
      );
    }
  }
  for (const [x, us] of boundTo) {
    if (us.length > 1) fail("c", `IONOS account ${show(x)} is bound to IdP users ${us.join(", ")}`);
  }
  const owner = (x: string) => boundTo.get(x)?.[0];
  /** The IONOS account of a live IdP user, if it has one it owns. */
  const accountOf = (u: string) => {
    const x = o.userTwins.get(u)?.ionosId;
    return x && owner(x) === u && o.users.has(x) ? x : undefined;
  };

  // --- every IONOS account
  for (const x of o.users.values()) {
    const pre = preUser.get(x.id);
    const preProtected = pre && isProtected(pre.initial.email);
    if (preProtected) {
      // (d) protected: unchanged, never written, never bound
      const changed = USER_FIELDS.filter((f) => x[f] !== pre.initial[f]);
      if (changed.length) {
        fail(
          "d",
          `protected ${pre.initial.email} changed: ${
            changed.map((f) => `${f} ${pre.initial[f]} -> ${x[f]}`).join(", ")
          }`,
        );
      }
      if (x.groups.join() !== pre.initial.groups.join()) {
        fail("d", `protected ${pre.initial.email} groups [${pre.initial.groups}] -> [${x.groups}]`);
      }
      if (touchedUsers.has(x.id)) fail("d", `protected ${pre.initial.email} was written to`);
      if (owner(x.id)) fail("d", `protected ${pre.initial.email} is bound to ${owner(x.id)}`);
      continue;
    }
    if (isProtected(x.email)) {
      fail("d", `account ${show(x.id)} has a protected email but is not the protected account`);
    }
    const u = owner(x.id);
    if (u) {
      const want = w.users.get(u)!;
      if (x.administrator && !want.admin) {
        fail("b", `${show(x.id)} of ${u} is administrator; wanted not (${describe(want)})`);
      }
      if (x.active && !want.active) {
        fail("b", `${show(x.id)} of ${u} is active; wanted inactive (${describe(want)})`);
      }
    } else if (pre && !touchedUsers.has(x.id)) {
      // (e) never adopted: exactly as seeded
      const changed = USER_FIELDS.filter((f) => x[f] !== pre.initial[f]);
      if (changed.length) fail("e", `pre-existing ${pre.initial.email} changed: ${changed}`);
      if (x.groups.join() !== pre.initial.groups.join()) {
        fail(
          "e",
          `pre-existing ${pre.initial.email} groups [${pre.initial.groups}] -> [${x.groups}]`,
        );
      }
    } else {
      // Created or adopted once, owned by no live IdP user now: no access left.
      if (x.active || x.administrator) {
        fail(
          "b",
          `${show(x.id)} is owned by no live IdP user but active=${x.active}, ` +
            `administrator=${x.administrator}`,
        );
      }
      if (!pre && m.onUserDeleted === "delete") {
        fail(
          "leak",
          `${show(x.id)}, created by the service, is owned by no live IdP user ` +
            `(onUserDeleted: delete)`,
        );
      }
      if (pre && m.adopt.deleteAdopted && m.onUserDeleted === "delete") {
        fail(
          "converge",
          `adopted ${show(x.id)} is owned by no live IdP user and was not deleted ` +
            `(deleteAdopted: true)`,
        );
      }
    }
    if (pre && touchedUsers.has(x.id) && !(mayAdopt(pre.key) && everHeld(pre.initial.email))) {
      fail(
        "e",
        `pre-existing ${pre.initial.email} (administrator=${pre.initial.administrator}) was written to; adopt.users: ${m.adopt.users}`,
      );
    }
  }
  for (const [key, initial] of o.initial.users) {
    if (o.users.has(initial.id)) continue;
    const allowed = mayAdopt(key) && m.adopt.deleteAdopted && m.onUserDeleted === "delete" &&
      [...w.everDeleted].some((u) => w.emailsHeld.get(u)?.has(normalizeEmail(initial.email)));
    if (!allowed) {
      fail(
        isProtected(initial.email) ? "d" : "e",
        `pre-existing ${initial.email} was deleted ` +
          `(adopt ${JSON.stringify(m.adopt)}, onUserDeleted: ${m.onUserDeleted})`,
      );
    }
  }

  // --- converge: live users without a standing conflict (or a failure (f) reports already)
  const excused = (key: string) => conflictsNow.has(key) || otherFailures.has(key);
  for (const want of w.users.values()) {
    if (!want.alive || excused(`user:${want.id}`)) continue;
    const x = accountOf(want.id);
    if (!x) {
      fail(
        "converge",
        `user ${want.id} <${want.email}> has no IONOS account it owns (twin ${
          JSON.stringify(o.userTwins.get(want.id) ?? {})
        })`,
      );
      continue;
    }
    const a = o.users.get(x)!;
    const diffs: string[] = [];
    if (normalizeEmail(a.email) !== want.email) diffs.push(`email ${a.email} != ${want.email}`);
    if (a.active !== want.active) diffs.push(`active ${a.active} != ${want.active}`);
    if (a.administrator !== want.admin) {
      diffs.push(`administrator ${a.administrator} != ${want.admin}`);
    }
    if (a.firstname !== want.given || a.lastname !== want.family) {
      diffs.push(`name ${a.firstname} ${a.lastname} != ${want.given} ${want.family}`);
    }
    if (diffs.length) fail("converge", `user ${want.id} ${show(x)}: ${diffs.join("; ")}`);
  }

  // --- groups
  const twinnedBy = new Map<string, string[]>();
  for (const g of w.groups.values()) {
    const gid = o.groupTwins.get(g.id)?.ionosId;
    if (!g.inScope || !gid) continue;
    twinnedBy.set(gid, [...(twinnedBy.get(gid) ?? []), g.id]);
  }
  for (const [gid, gs] of twinnedBy) {
    if (gs.length > 1) fail("c", `IONOS group ${gid.slice(0, 8)} is the twin of ${gs.join(", ")}`);
  }
  const mappedPrivileges = (name: string) =>
    Object.keys(m.groups.privileges).some((p) => globMatch(p, name));
  const privilegesFor = (name: string) => groupPrivileges(m as unknown as Mapping, name);
  const mappedNames = (names: Iterable<string> | undefined) =>
    [...names ?? []].filter(mappedPrivileges);
  const everMapped = mappedNames([...w.namesHeld.values()].flatMap((s) => [...s]));
  for (const g of w.groups.values()) {
    if (!g.inScope || excused(`group:${g.id}`)) continue;
    const gid = o.groupTwins.get(g.id)?.ionosId;
    const ig = gid ? o.groups.get(gid) : undefined;
    if (!ig) {
      fail(
        "converge",
        `group ${g.id} "${g.name}" has no IONOS group (twin ${
          JSON.stringify(o.groupTwins.get(g.id) ?? {})
        })`,
      );
      continue;
    }
    if (ig.name !== g.name) {
      fail("converge", `group ${g.id}: IONOS name "${ig.name}" != "${g.name}"`);
    }
    const pre = preGroup.get(ig.id);
    // An adopted group under a name the mapping sets no privileges for keeps its own; the spec
    // does not say whether "its own" are those it was adopted with or those a mapped name it
    // had since gave it, so both are accepted.
    const acceptable = pre && !mappedPrivileges(g.name)
      ? [pre.initial.privileges, ...mappedNames(w.namesHeld.get(g.id)).map(privilegesFor)]
      : [privilegesFor(g.name)];
    if (!acceptable.some((p) => samePrivileges(ig.privileges, p))) {
      fail(
        "converge",
        `group ${g.id} "${g.name}": privileges ${on(ig.privileges)}, wanted ${
          acceptable.map(on).join(" or ")
        }`,
      );
    }
  }

  // --- (a) memberships, group by group
  const managedAccount = (x: string) => !!owner(x) || !preUser.has(x) || touchedUsers.has(x);
  for (const ig of o.groups.values()) {
    const g = twinnedBy.get(ig.id)?.[0];
    const pre = preGroup.get(ig.id);
    const initialMember = (x: string) => !!pre?.initial.members.includes(x);
    const members = new Set(ig.members);
    const expected = new Set<string>();
    if (g) {
      for (const u of w.users.keys()) {
        const x = accountOf(u);
        if (x && expectedMember(w, g, u)) expected.add(x);
      }
    }
    for (const x of members) {
      if (!managedAccount(x) || expected.has(x)) continue;
      // An adopted account stays in the hand-made groups it was in, unless the service manages
      // that group now.
      if (initialMember(x) && (!owner(x) || !g)) continue;
      const why = g
        ? `not a wanted member of ${g} "${w.groups.get(g)!.name}"`
        : "no live in-scope " +
          "IdP group owns this group";
      fail("a", `${show(x)} (owner ${owner(x) ?? "none"}) is in IONOS group "${ig.name}": ${why}`);
    }
    for (const x of expected) {
      if (!members.has(x)) {
        fail("a", `${show(x)} (owner ${owner(x)}) is missing from IONOS group "${ig.name}" (${g})`);
      }
    }
    if (!pre && !g) {
      fail(
        "leak",
        `IONOS group "${ig.name}" ${ig.id.slice(0, 8)}, created by the service, is ` +
          `the twin of no live in-scope IdP group`,
      );
    }
    if (pre) {
      // (e) a hand-made group: only adopted by exactly its name, privileges only from the mapping
      const named = [...w.namesHeld.values()].some((s) => s.has(pre.initial.name));
      if (touchedGroups.has(ig.id) && !(m.adopt.groups && named)) {
        fail(
          "e",
          `pre-existing group "${pre.initial.name}" was written to (adopt.groups: ${m.adopt.groups})`,
        );
      }
      const allowed = [pre.initial.privileges, ...everMapped.map(privilegesFor)];
      if (!allowed.some((p) => samePrivileges(ig.privileges, p))) {
        fail(
          "e",
          `pre-existing group "${pre.initial.name}" privileges ${on(pre.initial.privileges)} -> ${
            on(ig.privileges)
          }`,
        );
      }
    }
  }
  for (const initial of o.initial.groups.values()) {
    if (!o.groups.has(initial.id)) fail("e", `pre-existing group "${initial.name}" was deleted`);
  }
  return out;
}

/**
 * Why a conflict has no lasting cause (undefined when it has one): see
 * {@linkcode CheckOptions.strictConflicts}.
 */
function lastingConflictCause(
  c: ModelCase,
  w: Wanted,
  o: Observed,
  kind: "user" | "group",
  id: string,
  isProtected: (email: string) => boolean,
): string | undefined {
  if (kind === "user") {
    const want = w.users.get(id);
    if (!want?.alive) return undefined;
    const e = want.email;
    if (isProtected(e)) return undefined;
    if ([...w.users.values()].some((v) => v.id !== id && v.alive && v.email === e)) {
      return undefined;
    }
    const own = o.userTwins.get(id)?.ionosId;
    const blocker = [...o.users.values()].find((x) =>
      normalizeEmail(x.email) === e && x.id !== own
    );
    if (blocker) return undefined;
    return `at the end no one else wants or has ${e}`;
  }
  const g = w.groups.get(id);
  if (!g?.inScope) return undefined;
  if (sharesUnknown(c, g.name)) return undefined;
  if ([...w.groups.values()].some((h) => h.id !== id && h.inScope && h.name === g.name)) {
    return undefined;
  }
  if (!c.mapping.adopt.groups && [...o.groups.values()].some((x) => x.name === g.name)) {
    return undefined;
  }
  return `at the end no other live in-scope IdP group is named "${g.name}"`;
}

function describe(u: { alive: boolean; active: boolean; admin: boolean }): string {
  return `alive=${u.alive} active=${u.active} admin=${u.admin}`;
}

function samePrivileges(a: Record<string, boolean>, b: Record<string, boolean>): boolean {
  return on(a) === on(b);
}

/** The privileges that are on, as a short sorted list. */
function on(p: Record<string, boolean>): string {
  return `[${Object.keys(p).filter((k) => p[k]).sort().join(",")}]`;
}

/** Whether the mapping gives the group named `name` a resource IONOS does not have. */
function sharesUnknown(c: ModelCase, name: string): boolean {
  return (c.mapping.groups.shares?.[name] ?? []).some((s) => s.resource === UNKNOWN_RESOURCE);
}
