/**
 * An identity provider's directory for fault-injection tests and the sync benchmark: users and
 * groups as events, and the check that IONOS (the simulator) ended up holding exactly that, once.
 */
import type { CallRecord, SimState } from "../../src/targets/ionos/simulator/mod.ts";
import type { TargetView } from "./targets.ts";

export interface DirUser {
  id: string;
  email: string;
}
export interface DirGroup {
  id: string;
  name: string;
  members: string[];
}
export interface Directory {
  users: DirUser[];
  groups: DirGroup[];
}

/**
 * `users` users and `groups` groups; user i is a member of group i % groups, so every group
 * has about users / groups members.
 */
export function makeDirectory(tag: string, users: number, groups: number): Directory {
  const us = Array.from({ length: users }, (_, i) => ({
    id: `${tag}-u${i}`,
    email: `${tag}.user${i}@example.com`,
  }));
  const gs = Array.from({ length: groups }, (_, g) => ({
    id: `${tag}-g${g}`,
    name: `${tag}-group-${g}`,
    members: us.filter((_, i) => i % groups === g).map((u) => u.id),
  }));
  return { users: us, groups: gs };
}

/** The `user.created` event for one user; `givenName` tells the loads apart. */
export function userCreatedEvent(u: DirUser, givenName: string): Record<string, unknown> {
  return {
    id: `evt-${u.id}`,
    type: "user.created",
    data: {
      id: u.id,
      userName: u.email,
      name: { givenName, familyName: u.id },
      emails: [{ value: u.email, primary: true }],
    },
  };
}

/** The `group.created` event for one group, with its members. */
export function groupCreatedEvent(g: DirGroup): Record<string, unknown> {
  return {
    id: `evt-${g.id}`,
    type: "group.created",
    data: { id: g.id, displayName: g.name, members: g.members.map((value) => ({ value })) },
  };
}

/** One `user.created` event per user, then one `group.created` (with members) per group. */
export function directoryEvents(dir: Directory): Record<string, unknown>[] {
  const users = dir.users.map((u) => userCreatedEvent(u, "Chaos"));
  const groups = dir.groups.map(groupCreatedEvent);
  return [...users, ...groups];
}

/** Splits events into `{events}` request bodies of `size`. */
export function batches(events: unknown[], size: number): { events: unknown[] }[] {
  const out: { events: unknown[] }[] = [];
  for (let i = 0; i < events.length; i += size) out.push({ events: events.slice(i, i + size) });
  return out;
}

/**
 * A directory from {@link makeDirectory} and its {@link directoryEvents} as `{events}` request
 * bodies of `batchSize`, ready to post.
 */
export function directoryLoad(
  tag: string,
  users: number,
  groups: number,
  batchSize: number,
): { dir: Directory; bodies: { events: unknown[] }[] } {
  const dir = makeDirectory(tag, users, groups);
  return { dir, bodies: batches(directoryEvents(dir), batchSize) };
}

/**
 * What is wrong with IONOS compared to the directory, one line per problem; empty when every
 * user and group exists exactly once with exactly its members.
 */
export function convergenceProblems(state: SimState, dir: Directory): string[] {
  const problems: string[] = [];
  const users = state.users();
  const byEmail = new Map<string, string[]>();
  for (const u of users) {
    const e = u.properties.email.toLowerCase();
    byEmail.set(e, [...(byEmail.get(e) ?? []), u.id]);
  }
  for (const [email, ids] of byEmail) {
    if (ids.length > 1) problems.push(`${ids.length} IONOS users with email ${email}`);
  }
  const ionosIdOf = new Map<string, string>();
  for (const u of dir.users) {
    const ids = byEmail.get(u.email) ?? [];
    if (ids.length === 0) problems.push(`user ${u.email} missing`);
    else ionosIdOf.set(u.id, ids[0]!);
  }
  const groups = state.groups();
  for (const g of dir.groups) {
    const found = groups.filter((x) => x.properties.name === g.name);
    if (found.length !== 1) {
      problems.push(`${found.length} IONOS groups named ${g.name}`);
      continue;
    }
    const actual = new Set(state.members(found[0]!.id));
    const wanted = new Set(g.members.map((m) => ionosIdOf.get(m)).filter((x) => x !== undefined));
    const missing = [...wanted].filter((id) => !actual.has(id)).length;
    const extra = [...actual].filter((id) => !wanted.has(id)).length;
    if (missing || extra) problems.push(`group ${g.name}: ${missing} missing, ${extra} extra`);
  }
  return problems;
}

/**
 * User creates that IONOS applied (answered 202, or applied with the answer lost). More than
 * one per user would be a duplicate attempt, even if IONOS refused it.
 */
export function appliedUserCreates(log: readonly CallRecord[]): number {
  return log.filter((c) =>
    c.method === "POST" && /\/um\/users$/.test(c.path) &&
    (c.status === 202 || c.fault === "lostAnswer")
  ).length;
}

/**
 * What is wrong with a target (read through its view) compared to the directory, one line per
 * problem; empty when every user exists exactly once and can log in, holds exactly its groups
 * (groups, or roles mapped from them, where the target has either), and every group exists
 * exactly once where the target has groups.
 */
export function viewConvergenceProblems(view: TargetView, dir: Directory): string[] {
  const problems: string[] = [];
  const grouped = view.capabilities.groups || view.capabilities.userRoles;
  for (const u of dir.users) {
    const n = view.usersWithEmail(u.email);
    if (n !== 1) {
      problems.push(`${n} ${view.name} users with email ${u.email}`);
      continue;
    }
    const got = view.user(u.email)!;
    if (!got.enabled) problems.push(`user ${u.email} cannot log in`);
    if (!grouped) continue;
    const want = dir.groups.filter((g) => g.members.includes(u.id)).map((g) => g.name).sort();
    if (got.groups.join() !== want.join()) {
      problems.push(`user ${u.email}: groups [${got.groups}], wanted [${want}]`);
    }
  }
  if (view.capabilities.groups) {
    const names = view.groupNames();
    for (const g of dir.groups) {
      const n = names.filter((x) => x === g.name).length;
      if (n !== 1) problems.push(`${n} ${view.name} groups named ${g.name}`);
    }
  }
  return problems;
}
