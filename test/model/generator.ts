/**
 * Seeded generator of one model-test case (issue 8, "Proof"): a mapping variant, IONOS accounts
 * and groups that exist before the service starts, a realistic IdP history as abstract operations,
 * and how the history is delivered (duplicates, reordering, concurrent requests, IONOS delays and
 * faults). Same seed, same case.
 *
 * The history is kept as operations with fixed time offsets, rendered to events by replaying
 * them through a small IdP model ({@linkcode renderHistory}); a subset of the operations renders
 * to a shorter realistic history, which is how a failing seed is minimised.
 */
import type { Faults } from "../../src/targets/ionos/simulator/mod.ts";
import { createRandom } from "../../src/targets/simulator/random.ts";

/** A seeded random source with the helpers the generator needs. */
export interface Rng {
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** Items in random order (a copy). */
  shuffle<T>(items: readonly T[]): T[];
}

/** @param seed any number; only its low 32 bits count. */
export function createRng(seed: number): Rng {
  const { next } = createRandom(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)]!,
    chance: (p) => next() < p,
    shuffle(items) {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}

/** The mapping variant of one case; `administrators` and `groups.include` are fixed. */
export interface MappingSpec {
  onUserDeleted: "delete" | "deactivate";
  administrators: string[];
  groups: {
    include: string[];
    privileges: Record<string, string[]>;
    /** Resource shares per group name (see {@linkcode RESOURCES}). */
    shares?: Record<string, ShareSpec[]>;
  };
  /** What happens to a deactivated account's S3 keys. */
  offboarding?: { s3Keys: "deactivate" | "delete" | "keep" };
  /** As written in the mapping file (the service normalizes them). */
  protectedEmails: string[];
  adopt: { users: "none" | "non-admin" | "all"; groups: boolean; deleteAdopted: boolean };
}

/** An IONOS user that exists before the service starts. */
export interface PreUser {
  key: string;
  firstname: string;
  lastname: string;
  email: string;
  administrator: boolean;
  active: boolean;
  /** S3 keys the account has, each active or not. */
  s3Keys?: boolean[];
}

/** An IONOS group that exists before the service starts; `members` are PreUser keys. */
export interface PreGroup {
  key: string;
  name: string;
  privileges: Record<string, boolean>;
  members: string[];
  /** Shares made by hand in the console. */
  shares?: ShareSpec[];
}

/** One resource share, as the mapping writes it. */
export interface ShareSpec {
  resource: string;
  edit: boolean;
  share: boolean;
}

/** Shareable resources that exist in IONOS before the service starts. */
export const RESOURCES = {
  dc: "5e1f0000-0000-4000-8000-0000000000d1",
  snap: "5e1f0000-0000-4000-8000-0000000000d2",
  img: "5e1f0000-0000-4000-8000-0000000000d3",
  hand: "5e1f0000-0000-4000-8000-0000000000d4",
} as const;
/** A resource the mapping may name that IONOS does not have: always a conflict, never shared. */
export const UNKNOWN_RESOURCE = "5e1f0000-0000-4000-8000-0000000000ee";

/** One IdP change; `dt` is its time offset (ms) from the history's start. */
export type Op =
  & { dt: number }
  & (
    | { k: "userCreate"; u: string; email: string; given: string; family: string; active: boolean }
    | {
      k: "userUpdate";
      u: string;
      email?: string;
      given?: string;
      family?: string;
      active?: boolean;
    }
    | { k: "userDeactivate" | "userReactivate" | "userDelete"; u: string }
    | { k: "groupCreate"; g: string; name: string; members?: string[] }
    | { k: "groupUpdate"; g: string; name?: string; members?: string[] }
    | { k: "groupDelete"; g: string }
    | { k: "membersAdd" | "membersRemove"; g: string; users: string[] }
  );

/** How the history reaches the service and how IONOS behaves meanwhile. */
export interface DeliverySpec {
  /** Requests in flight at once. */
  concurrency: number;
  /** Events per request, at most. */
  batchMax: number;
  /** Share of events sent a second time (same event id). */
  duplicateRate: number;
  /** An event may arrive up to this many positions after its time order. */
  reorderWindow: number;
  /** Pause after each request of a lane, at most (ms). */
  gapMaxMs: number;
  workerConcurrency: number;
  requestDelayMs: number;
  latencyMs: number;
  faults: Faults;
  /** Faults stay on this long after the last request (ms), then are switched off. */
  faultTailMs: number;
}

export interface ModelCase {
  seed: number;
  mapping: MappingSpec;
  preexisting: { users: PreUser[]; groups: PreGroup[] };
  userIds: string[];
  groupIds: string[];
  ops: Op[];
  delivery: DeliverySpec;
}

export const OWNER_EMAIL = "owner@example.com";
export const SECURITY_EMAIL = "security@example.com";
/** Group names the generator uses that `groups.include` (`ionos-*`) takes in. */
export const IN_SCOPE = ["ionos-admins", "ionos-dev", "ionos-ops", "ionos-qa", "ionos-sales"];
const OUT_OF_SCOPE = ["staff", "contractors", "everyone"];
const GIVEN = ["Ada", "Grace", "Linus", "Ken", "Barbara", "Edsger", "Frances", "Alan"];
const FAMILY = ["Lovelace", "Hopper", "Torvalds", "Thompson", "Liskov", "Dijkstra", "Allen"];

/** Generates the case for `seed`. */
export function generateCase(seed: number): ModelCase {
  const rng = createRng(seed);
  const mapping = generateMapping(rng);
  const preexisting = generatePreexisting(rng, mapping);
  const userIds = Array.from({ length: rng.int(3, 7) }, (_, i) => `u${i}`);
  const groupIds = Array.from({ length: rng.int(2, 4) }, (_, i) => `g${i}`);
  const ops = generateOps(rng, userIds, groupIds, preexisting.users);
  // A stream of its own: the rest of a seed's case is as it was before shares and keys.
  addAccess(createRng(seed ^ 0x5ba7e5), mapping, preexisting);
  const slow = rng.chance(0.08);
  const faulty = rng.chance(0.75);
  const delivery: DeliverySpec = {
    concurrency: rng.int(1, 4),
    batchMax: rng.pick([1, 1, 2, 3, 5]),
    duplicateRate: rng.pick([0, 0.05, 0.15, 0.3]),
    reorderWindow: rng.pick([0, 2, 4, 8]),
    gapMaxMs: rng.pick([0, 30, 120]),
    workerConcurrency: rng.pick([2, 4, 8]),
    requestDelayMs: slow ? rng.int(1000, 2000) : rng.pick([5, 20, 60, 150, 300]),
    latencyMs: rng.pick([0, 0, 5, 20]),
    faults: faulty
      ? {
        error5xxRate: rng.pick([0, 0.05, 0.1, 0.15]),
        rate429: rng.pick([0, 0, 0.01, 0.03]),
        lostAnswerRate: rng.pick([0, 0.05, 0.1, 0.15]),
        status5xx: rng.pick([500, 502, 503]),
      }
      : {},
    faultTailMs: rng.pick([0, 500, 1500]),
  };
  return { seed, mapping, preexisting, userIds, groupIds, ops, delivery };
}

function generateMapping(rng: Rng): MappingSpec {
  const protectedEmails = [OWNER_EMAIL];
  // Written as an admin might: mixed case and stray spaces (compared normalized).
  if (rng.chance(0.5)) protectedEmails.push(" Security@Example.COM ");
  return {
    onUserDeleted: rng.pick(["delete", "deactivate"] as const),
    administrators: ["ionos-admins"],
    groups: {
      include: ["ionos-*"],
      privileges: rng.chance(0.4) ? { "ionos-dev": ["createDataCenter", "createSnapshot"] } : {},
    },
    protectedEmails,
    adopt: {
      users: rng.pick(["none", "non-admin", "all"] as const),
      groups: rng.chance(0.7),
      deleteAdopted: rng.chance(0.35),
    },
  };
}

function generatePreexisting(
  rng: Rng,
  mapping: MappingSpec,
): { users: PreUser[]; groups: PreGroup[] } {
  const users: PreUser[] = [{
    key: "owner",
    firstname: "Olivia",
    lastname: "Owner",
    email: OWNER_EMAIL,
    administrator: true,
    active: true,
  }];
  if (mapping.protectedEmails.length > 1 && rng.chance(0.5)) {
    users.push({
      key: "security",
      firstname: "Sec",
      lastname: "Officer",
      email: SECURITY_EMAIL,
      administrator: false,
      active: true,
    });
  }
  if (rng.chance(0.6)) {
    users.push({
      key: "legacyAdmin",
      firstname: "Lee",
      lastname: "Admin",
      email: "legacy.admin@example.com",
      administrator: true,
      active: true,
    });
  }
  if (rng.chance(0.6)) {
    users.push({
      key: "legacyUser",
      firstname: "Lu",
      lastname: "User",
      email: "legacy.user@example.com",
      administrator: false,
      active: rng.chance(0.7),
    });
  }
  if (rng.chance(0.4)) {
    users.push({
      key: "contractor",
      firstname: "Con",
      lastname: "Tractor",
      email: "old.contractor@example.com",
      administrator: false,
      active: false,
    });
  }
  const keys = users.map((u) => u.key);
  const some = (candidates: string[]) => candidates.filter((k) => keys.includes(k));
  const groups: PreGroup[] = [];
  if (rng.chance(0.5)) {
    groups.push({
      key: "admins",
      name: "ionos-admins",
      privileges: { accessActivityLog: true },
      members: some(["owner", "legacyAdmin"]),
    });
  }
  if (rng.chance(0.5)) {
    groups.push({
      key: "ops",
      name: rng.pick(["ionos-ops", "ionos-dev"]),
      privileges: { createDataCenter: true, reserveIp: true },
      members: some(["legacyUser", "owner"]),
    });
  }
  if (rng.chance(0.4)) {
    groups.push({
      key: "handmade",
      name: "hand-made",
      privileges: { createSnapshot: true },
      members: some(["legacyUser", "legacyAdmin", "contractor"]),
    });
  }
  if (rng.chance(0.3)) groups.push({ key: "qa", name: "ionos-qa", privileges: {}, members: [] });
  return { users, groups };
}

/**
 * Shares in the mapping (sometimes naming a resource IONOS does not have), hand-made shares on
 * pre-existing groups (sometimes on a resource the mapping names: taken over, then put back),
 * S3 keys on pre-existing accounts (some turned off by hand), and the offboarding policy.
 */
function addAccess(
  rng: Rng,
  mapping: MappingSpec,
  pre: { users: PreUser[]; groups: PreGroup[] },
): void {
  mapping.offboarding = { s3Keys: rng.pick(["deactivate", "deactivate", "delete", "keep"]) };
  const mapped = [RESOURCES.dc, RESOURCES.snap, RESOURCES.img];
  const share = (resource: string): ShareSpec => ({
    resource,
    edit: rng.chance(0.5),
    share: rng.chance(0.3),
  });
  if (rng.chance(0.7)) {
    const shares: Record<string, ShareSpec[]> = {};
    for (const name of ["ionos-dev", "ionos-ops", "ionos-qa"]) {
      if (!rng.chance(0.5)) continue;
      const list = rng.shuffle(mapped).slice(0, rng.int(1, 2)).map(share);
      if (rng.chance(0.15)) list.push(share(UNKNOWN_RESOURCE));
      shares[name] = list;
    }
    mapping.groups.shares = shares;
  }
  for (const u of pre.users) {
    if (rng.chance(0.6)) u.s3Keys = Array.from({ length: rng.int(1, 2) }, () => rng.chance(0.8));
  }
  for (const g of pre.groups) {
    const shares: ShareSpec[] = [];
    if (rng.chance(0.6)) shares.push(share(RESOURCES.hand));
    if (rng.chance(0.4)) shares.push(share(rng.pick(mapped)));
    if (shares.length) g.shares = shares;
  }
}

/** A state of the IdP as the generator and the renderer track it. */
interface IdpUser {
  alive: boolean;
  email: string;
  given: string;
  family: string;
  active: boolean;
}
interface IdpGroup {
  alive: boolean;
  name: string;
  members: Set<string>;
}

/** The IdP's own view: what a realistic history may say next. */
export class IdpModel {
  readonly users = new Map<string, IdpUser>();
  readonly groups = new Map<string, IdpGroup>();

  aliveUsers(): string[] {
    return [...this.users].filter(([, u]) => u.alive).map(([id]) => id);
  }
  aliveGroups(): string[] {
    return [...this.groups].filter(([, g]) => g.alive).map(([id]) => id);
  }
  nameTaken(name: string, except?: string): boolean {
    return [...this.groups].some(([id, g]) => g.alive && id !== except && g.name === name);
  }

  /**
   * Applies an operation if it is realistic now (adjusted where it can be: dead users dropped
   * from member lists, a taken name not used) and returns its event body, else undefined.
   */
  apply(op: Op, eventId: string, time: string): Record<string, unknown> | undefined {
    const ev = (type: string, data: Record<string, unknown>) => ({ id: eventId, type, time, data });
    const alive = (u: string) => this.users.get(u)?.alive === true;
    switch (op.k) {
      case "userCreate": {
        if (alive(op.u)) return undefined;
        const u = {
          alive: true,
          email: op.email,
          given: op.given,
          family: op.family,
          active: op.active,
        };
        this.users.set(op.u, u);
        return ev("user.created", userData(op.u, u));
      }
      case "userUpdate":
      case "userDeactivate":
      case "userReactivate": {
        const u = this.users.get(op.u);
        if (!u?.alive) return undefined;
        if (op.k === "userUpdate") {
          if (op.email !== undefined) u.email = op.email;
          if (op.given !== undefined) u.given = op.given;
          if (op.family !== undefined) u.family = op.family;
          if (op.active !== undefined) u.active = op.active;
        } else {
          u.active = op.k === "userReactivate";
        }
        const type = op.k === "userUpdate"
          ? "user.updated"
          : op.k === "userDeactivate"
          ? "user.deactivated"
          : "user.reactivated";
        return ev(type, userData(op.u, u));
      }
      case "userDelete": {
        const u = this.users.get(op.u);
        if (!u?.alive) return undefined;
        u.alive = false;
        for (const g of this.groups.values()) g.members.delete(op.u);
        return ev("user.deleted", { id: op.u });
      }
      case "groupCreate": {
        if (this.groups.get(op.g)?.alive || this.nameTaken(op.name)) return undefined;
        const members = op.members?.filter(alive);
        this.groups.set(op.g, { alive: true, name: op.name, members: new Set(members ?? []) });
        return ev("group.created", groupData(op.g, op.name, members));
      }
      case "groupUpdate": {
        const g = this.groups.get(op.g);
        if (!g?.alive) return undefined;
        if (op.name !== undefined && !this.nameTaken(op.name, op.g)) g.name = op.name;
        const members = op.members?.filter(alive);
        if (members) g.members = new Set(members);
        return ev("group.updated", groupData(op.g, g.name, members));
      }
      case "groupDelete": {
        const g = this.groups.get(op.g);
        if (!g?.alive) return undefined;
        g.alive = false;
        g.members.clear();
        return ev("group.deleted", { id: op.g });
      }
      case "membersAdd":
      case "membersRemove": {
        const g = this.groups.get(op.g);
        if (!g?.alive) return undefined;
        const users = op.users.filter((u) =>
          alive(u) && (op.k === "membersAdd" ? !g.members.has(u) : g.members.has(u))
        );
        if (users.length === 0) return undefined;
        for (const u of users) op.k === "membersAdd" ? g.members.add(u) : g.members.delete(u);
        const type = op.k === "membersAdd" ? "group.members.added" : "group.members.removed";
        return ev(type, { groupId: op.g, members: users.map((value) => ({ value })) });
      }
    }
  }
}

function userData(id: string, u: IdpUser): Record<string, unknown> {
  return {
    id,
    userName: u.email,
    name: { givenName: u.given, familyName: u.family },
    emails: [{ value: u.email, primary: true }],
    // Always explicit, so the wanted state does not depend on arrival order (spec).
    active: u.active,
  };
}

function groupData(id: string, name: string, members?: string[]): Record<string, unknown> {
  return {
    id,
    displayName: name,
    ...(members ? { members: members.map((value) => ({ value })) } : {}),
  };
}

/** Upper-cases some letters, as people type emails. */
function caseVariant(rng: Rng, email: string): string {
  switch (rng.int(0, 3)) {
    case 0:
      return email.toUpperCase();
    case 1:
      return email[0]!.toUpperCase() + email.slice(1);
    case 2: {
      const [local, domain] = email.split("@");
      return `${local}@${domain!.replace(/^./, (c) => c.toUpperCase())}`;
    }
    default:
      return email;
  }
}

function generateOps(
  rng: Rng,
  userIds: string[],
  groupIds: string[],
  preUsers: PreUser[],
): Op[] {
  const model = new IdpModel();
  const ops: Op[] = [];
  const emailsUsed = new Map<string, Set<string>>(userIds.map((u) => [u, new Set()]));
  let fresh = 0;
  const protectedPool = [OWNER_EMAIL, SECURITY_EMAIL];
  const preEmails = preUsers.filter((p) => !protectedPool.includes(p.email)).map((p) => p.email);

  const pickEmail = (u: string, creating: boolean): string => {
    const r = rng.next();
    const own = emailsUsed.get(u)!;
    const others = [...emailsUsed].filter(([id]) => id !== u).flatMap(([, s]) => [...s]);
    let email: string;
    if (r < 0.5 || (r < 0.6 && own.size === 0)) {
      email = creating && !own.has(`${u}@example.com`)
        ? `${u}@example.com`
        : `${u}.${++fresh}@example.com`;
    } else if (r < 0.6) {
      email = rng.pick([...own]);
    } else if (r < 0.72 && others.length) {
      email = caseVariant(rng, rng.pick(others));
    } else if (r < 0.8) {
      email = "shared@example.com";
    } else if (r < 0.88) {
      email = caseVariant(rng, rng.pick(protectedPool));
    } else if (preEmails.length) {
      email = caseVariant(rng, rng.pick(preEmails));
    } else {
      email = `${u}.${++fresh}@example.com`;
    }
    own.add(email.toLowerCase());
    return email;
  };
  const groupName = (g: string): string => {
    const pool = rng.chance(0.75) ? IN_SCOPE : OUT_OF_SCOPE;
    const free = pool.filter((n) => !model.nameTaken(n, g));
    return free.length ? rng.pick(free) : `ionos-${g}`;
  };
  const someUsers = (candidates: string[], max: number) =>
    rng.shuffle(candidates).slice(0, rng.int(1, Math.max(1, Math.min(max, candidates.length))));

  const count = rng.int(20, 60);
  let dt = 0;
  // Groups first named by their index, so "ionos-admins" is usually there from the start.
  const firstName = (g: string) => g === "g0" && rng.chance(0.8) ? "ionos-admins" : groupName(g);
  for (let i = 0; i < count; i++) {
    dt += rng.int(150, 2500);
    const alive = model.aliveUsers();
    const dead = userIds.filter((u) => !alive.includes(u));
    const liveGroups = model.aliveGroups();
    const deadGroups = groupIds.filter((g) => !liveGroups.includes(g));
    const choices: [number, () => Op | undefined][] = [
      [dead.length ? (alive.length < 2 ? 6 : 2.5) : 0, () => {
        const u = rng.pick(dead);
        return {
          dt,
          k: "userCreate",
          u,
          email: pickEmail(u, true),
          given: rng.pick(GIVEN),
          family: rng.pick(FAMILY),
          active: rng.chance(0.9),
        };
      }],
      [alive.length ? 2 : 0, () => {
        const u = rng.pick(alive);
        return { dt, k: "userUpdate", u, email: pickEmail(u, false), active: rng.chance(0.85) };
      }],
      [alive.length ? 1 : 0, () => ({
        dt,
        k: "userUpdate",
        u: rng.pick(alive),
        given: rng.pick(GIVEN),
        family: rng.pick(FAMILY),
        active: rng.chance(0.8),
      })],
      [alive.length ? 1.2 : 0, () => ({
        dt,
        k: rng.chance(0.5) ? "userDeactivate" : "userReactivate",
        u: rng.pick(alive),
      })],
      [alive.length ? 0.8 : 0, () => ({ dt, k: "userDelete", u: rng.pick(alive) })],
      [deadGroups.length ? (liveGroups.length < 1 ? 6 : 1.5) : 0, () => {
        const g = rng.pick(deadGroups);
        return {
          dt,
          k: "groupCreate",
          g,
          name: firstName(g),
          ...(rng.chance(0.5) && alive.length ? { members: someUsers(alive, 3) } : {}),
        };
      }],
      [liveGroups.length ? 1.2 : 0, () => ({
        dt,
        k: "groupUpdate",
        g: rng.pick(liveGroups),
        name: groupName(""),
        ...(rng.chance(0.3) ? { members: alive.length ? someUsers(alive, 3) : [] } : {}),
      })],
      [liveGroups.length ? 0.8 : 0, () => ({
        dt,
        k: "groupUpdate",
        g: rng.pick(liveGroups),
        members: alive.length && rng.chance(0.85) ? someUsers(alive, 4) : [],
      })],
      [liveGroups.length ? 0.5 : 0, () => ({ dt, k: "groupDelete", g: rng.pick(liveGroups) })],
      [liveGroups.length && alive.length ? 4 : 0, () => {
        const g = rng.pick(liveGroups);
        const members = model.groups.get(g)!.members;
        const candidates = alive.filter((u) => !members.has(u));
        return candidates.length
          ? { dt, k: "membersAdd", g, users: someUsers(candidates, 2) }
          : undefined;
      }],
      [liveGroups.length ? 2 : 0, () => {
        const g = rng.pick(liveGroups);
        const members = [...model.groups.get(g)!.members];
        return members.length
          ? { dt, k: "membersRemove", g, users: someUsers(members, 2) }
          : undefined;
      }],
    ];
    const total = choices.reduce((s, [w]) => s + w, 0);
    let roll = rng.next() * total;
    const chosen = choices.find(([w]) => (roll -= w) < 0) ?? choices[0]!;
    const op = chosen[1]();
    // Applied to the model now so the next choice sees it; renderHistory replays them again.
    if (op && model.apply(op, "", "")) ops.push(op);
  }
  return ops;
}

/** One event of a rendered history: its time (ms) and its JSON body. */
export interface HistoryEvent {
  time: number;
  body: Record<string, unknown>;
}

/**
 * Replays `ops` (all of a case's, or a subset) through the IdP model from `start` (ms), keeping
 * only the operations that are realistic at their turn, and returns their events and the
 * IdP's final state.
 */
export function renderHistory(
  c: ModelCase,
  ops: readonly Op[],
  start: number,
): { events: HistoryEvent[]; model: IdpModel } {
  const model = new IdpModel();
  const events: HistoryEvent[] = [];
  for (const op of ops) {
    const time = start + op.dt;
    const copy = structuredClone(op);
    // Offsets grow strictly, so they name the operation in a subset too.
    const body = model.apply(copy, `ev-${c.seed}-${op.dt}`, new Date(time).toISOString());
    if (body) events.push({ time, body });
  }
  return { events, model };
}

/** The history's span (ms): the last operation's offset. */
export function historySpan(ops: readonly Op[]): number {
  return ops.reduce((m, op) => Math.max(m, op.dt), 0);
}

/**
 * Arrival plan: events moved up to `reorderWindow` places later, some sent twice (same id),
 * cut into requests of 1..batchMax events. Independent of the IdP history's randomness.
 */
export function planDelivery(c: ModelCase, events: readonly HistoryEvent[]): unknown[][] {
  const rng = createRng(c.seed ^ 0x5bd1e995);
  const d = c.delivery;
  const keyed = events.map((e, i) => ({
    key: i + rng.next() * (d.reorderWindow + 1),
    body: e.body,
  }));
  for (const [i, e] of events.entries()) {
    if (rng.chance(d.duplicateRate)) {
      keyed.push({ key: i + rng.int(-2, 12) + rng.next(), body: e.body });
    }
  }
  keyed.sort((a, b) => a.key - b.key);
  const batches: unknown[][] = [];
  for (let i = 0; i < keyed.length;) {
    const n = rng.int(1, d.batchMax);
    batches.push(keyed.slice(i, i + n).map((k) => k.body));
    i += n;
  }
  return batches;
}
