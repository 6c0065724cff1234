/**
 * The invariants that apply to a target beside IONOS (Contabo, Cloudflare; issue 11), checked on
 * its simulator (through its view, test/_support/targets.ts) and on its links in Redis once
 * every queue has drained. Users and their groups (Cloudflare user groups, Contabo roles read
 * back as group names) only; what IONOS alone has (privileges, shares, S3 keys) stays in
 * invariants.ts.
 * - (t-grant) no account a live IdP user owns holds a group, role, admin flag or log-in the
 *   IdP does not want for it; an account the sync created that no live IdP user owns can log
 *   in nowhere (disabled, or gone where the target cannot disable);
 * - (t-removed) every deleted or deactivated IdP user's account is gone or disabled, adopted or
 *   not, conflict or not (Cloudflare, which cannot disable, removes even an adopted member);
 *   only protected and owner accounts are never touched (never linked, and checked above);
 * - (t-bound) no account is bound to two live IdP users;
 * - (t-untouched) protected and owner accounts, and pre-existing accounts the mapping may not
 *   adopt, are exactly as seeded;
 * - (t-failed) no job of the target's queue failed except reported conflicts;
 * - (t-converge) live active users without a recorded conflict own an account with exactly
 *   their in-scope groups.
 */
import type { TargetView, ViewUser } from "../_support/targets.ts";
import type { ModelCase } from "./generator.ts";
import { normalizeEmail, type Wanted } from "./oracle.ts";
import type { Violation } from "./invariants.ts";

/** What the target invariants look at. */
export interface TargetObserved {
  view: TargetView;
  users: ViewUser[];
  /** The pre-existing accounts as seeded, by email (normalized). */
  initial: Map<string, ViewUser>;
  /** IdP user id -> its link (`sync:target:<t>:user:<id>`). */
  links: Map<string, Record<string, string>>;
  /** Failed jobs of the target's queue: `kind:id: reason`. */
  failed: string[];
  /** IdP group names synced to the target. */
  inScope: (name: string) => boolean;
}

/** Checks the target invariants; returns the violations (empty when all hold). */
export function checkTargetInvariants(
  c: ModelCase,
  w: Wanted,
  o: TargetObserved,
): Violation[] {
  const out: Violation[] = [];
  const t = o.view.name;
  const caps = o.view.capabilities;
  const fail = (invariant: string, message: string) =>
    out.push({ invariant, message: `${t}: ${message}` });
  const m = c.mapping;
  const protectedEmails = new Set(m.protectedEmails.map(normalizeEmail));
  const byId = new Map(o.users.map((u) => [u.id, u]));
  const show = (u: ViewUser) => `${u.id.slice(0, 8)} <${u.email}>`;
  const conflicted = (id: string) =>
    o.links.get(id)?.state === "conflict" || o.failed.some((f) => f.startsWith(`user:${id}:`));

  /** The in-scope groups the IdP wants `u` in, sorted. */
  const wantedGroups = (u: string) =>
    [...w.groups.values()]
      .filter((g) => g.alive && o.inScope(g.name) && !!w.members.get(g.id)?.has(u))
      .map((g) => g.name).sort();

  for (const f of o.failed) {
    if (!/conflict/i.test(f)) fail("t-failed", `job ${f} failed without a conflict`);
  }

  // (t-bound) and owners
  const boundTo = new Map<string, string[]>();
  for (const [u, link] of o.links) {
    if (!w.users.get(u)?.alive || !link.targetId) continue;
    boundTo.set(link.targetId, [...(boundTo.get(link.targetId) ?? []), u]);
  }
  for (const [x, us] of boundTo) {
    if (us.length > 1) {
      fail("t-bound", `account ${x.slice(0, 8)} is bound to IdP users ${us.join(", ")}`);
    }
  }
  const owner = (x: string) => boundTo.get(x)?.[0];

  for (const x of o.users) {
    const pre = o.initial.get(normalizeEmail(x.email));
    const seeded = pre?.id === x.id ? pre : undefined;
    const u = owner(x.id);
    if (seeded && (protectedEmails.has(normalizeEmail(seeded.email)) || seeded.owner)) {
      if (JSON.stringify(x) !== JSON.stringify(seeded)) {
        fail("t-untouched", `protected or owner ${show(x)} changed`);
      }
      if (u) fail("t-untouched", `protected or owner ${show(x)} is bound to ${u}`);
      continue;
    }
    if (u) {
      const want = w.users.get(u)!;
      const may = want.alive && want.active;
      // No conflict excuses it: every target takes the access of a removed IdP user away.
      if (x.enabled && !may) {
        fail(
          "t-grant",
          `${show(x)} of ${u} can log in; wanted alive=${want.alive} active=${want.active}`,
        );
      }
      if (caps.adminFlag && x.admin && !want.admin) fail("t-grant", `${show(x)} of ${u} is admin`);
      const allowed = new Set(may ? wantedGroups(u) : []);
      const extra = x.groups.filter((g) => !allowed.has(g) && !seeded?.groups.includes(g));
      if (extra.length) {
        fail("t-grant", `${show(x)} of ${u} holds [${extra}] the IdP does not want`);
      }
    } else if (!seeded && x.enabled) {
      // Made by the sync (only the sync makes accounts here), owned by no live IdP user.
      const who = [...o.links].find(([, l]) => l.targetId === x.id)?.[0];
      if (!(who && conflicted(who))) {
        fail(
          "t-grant",
          `${show(x)}, made by the sync, is owned by no live IdP user but can log in`,
        );
      }
    } else if (seeded && JSON.stringify(x) !== JSON.stringify(seeded)) {
      const adoptable = m.adopt.users === "all" ||
        (m.adopt.users === "non-admin" && !seeded.admin);
      if (!adoptable) {
        fail("t-untouched", `pre-existing ${show(x)} changed (adopt ${m.adopt.users})`);
      }
    }
  }
  for (const seeded of o.initial.values()) {
    if (byId.has(seeded.id)) continue;
    const allowed = !protectedEmails.has(normalizeEmail(seeded.email)) && !seeded.owner &&
      (m.adopt.deleteAdopted || !caps.deactivate);
    if (!allowed) fail("t-untouched", `pre-existing ${seeded.email} was deleted`);
  }

  // (t-removed): the IdP user's own account (its link), if any, can no longer log in. Strict:
  // no recorded conflict excuses it (an adopted Cloudflare member is removed, not kept for a
  // person); protected and owner accounts are never linked.
  for (const want of w.users.values()) {
    if (want.alive && want.active) continue;
    const x = o.links.get(want.id)?.targetId;
    const acc = x ? byId.get(x) : undefined;
    const seeded = acc && o.initial.get(normalizeEmail(acc.email));
    const untouchable = !!acc && (protectedEmails.has(normalizeEmail(acc.email)) ||
      (seeded?.id === acc.id && seeded.owner));
    if (untouchable) {
      fail("t-removed", `protected or owner ${show(acc!)} is linked to ${want.id}`);
    } else if (acc?.enabled && owner(acc.id) !== undefined) {
      fail("t-removed", `${show(acc)} of removed IdP user ${want.id} can still log in`);
    } else if (acc?.enabled && !want.alive) {
      fail("t-removed", `${show(acc)} of deleted IdP user ${want.id} can still log in`);
    }
  }

  // (t-converge)
  for (const want of w.users.values()) {
    if (!want.alive || !want.active || protectedEmails.has(want.email) || conflicted(want.id)) {
      continue;
    }
    const x = o.links.get(want.id)?.targetId;
    const acc = x && owner(x) === want.id ? byId.get(x) : undefined;
    if (!acc) {
      fail(
        "t-converge",
        `user ${want.id} <${want.email}> owns no account (link ${
          JSON.stringify(o.links.get(want.id) ?? {})
        })`,
      );
      continue;
    }
    if (normalizeEmail(acc.email) !== want.email) {
      fail("t-converge", `user ${want.id}: ${show(acc)} has not the email ${want.email}`);
    }
    const groups = wantedGroups(want.id);
    if (
      (caps.groups || caps.userRoles) &&
      acc.groups.filter((g) => o.inScope(g)).join() !== groups.join()
    ) {
      fail(
        "t-converge",
        `user ${want.id}: ${show(acc)} groups [${acc.groups}], wanted [${groups}]`,
      );
    }
  }
  return out;
}
