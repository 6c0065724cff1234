/**
 * One view per target cloud for scenarios that run against every target (issue 11, "Proof"):
 * start the target's simulator, give the service its settings and a mapping section, read the
 * simulator's state in one target-neutral shape, and turn its fault knobs. A scenario written
 * against {@linkcode TargetView} runs unchanged on IONOS, Contabo and Cloudflare; what it may
 * expect comes from `capabilities` (src/targets/target.ts), never from the target's name.
 * No vitest import: `bench/` may use this file too.
 */
import type { Faults } from "../../src/targets/simulator/faults.ts";
import { targetQueueName } from "../../src/queue/target_queue.ts";
import { type Harness, type HarnessOptions, startHarness } from "./harness.ts";
import type { RunningSimulator } from "../../src/targets/ionos/simulator/mod.ts";
import {
  CLOUDFLARE_SIM_ACCOUNT,
  CLOUDFLARE_SIM_TOKEN,
} from "../../src/targets/cloudflare/simulator/app.ts";
import {
  type RunningCloudflareSimulator,
  startCloudflareSimulator,
} from "../../src/targets/cloudflare/simulator/server.ts";
import { CONTABO_SIM_CREDENTIALS } from "../../src/targets/contabo/simulator/app.ts";
import {
  type RunningContaboSimulator,
  startContaboSimulator,
} from "../../src/targets/contabo/simulator/server.ts";
import {
  TARGET_CAPABILITIES,
  TARGET_NAMES,
  type TargetCapabilities,
  type TargetName,
} from "../../src/targets/target.ts";

/** Every target, for `describe.each(TARGETS)`. */
export const TARGETS: readonly TargetName[] = TARGET_NAMES;

/** The account role every Cloudflare invitation carries in these scenarios (read only). */
export const CF_MEMBER_ROLE = "05784afa30c1afe1440e79d9351c7430";
/** Contabo role ids: the i-th synced group of a scenario grants `CONTABO_FIRST_ROLE + i`. */
export const CONTABO_FIRST_ROLE = 101;
const CONTABO_ROLES = Array.from({ length: 64 }, (_, i) => CONTABO_FIRST_ROLE + i);

/** A user (account, member) as any target holds it. */
export interface ViewUser {
  /** The target's own id. */
  id: string;
  email: string;
  /** Can log in. A pending Cloudflare invitation counts: the person holds it. */
  enabled: boolean;
  /** The target's administrator flag (false where `capabilities.adminFlag` is false). */
  admin: boolean;
  /** An invitation not accepted yet (Cloudflare). */
  pending: boolean;
  /** Names where the target keeps them on the account (see `TargetView.keepsNames`). */
  firstName?: string;
  lastName?: string;
  /**
   * IdP group names this user holds in the target: the groups it is a member of, or (Contabo)
   * the groups whose mapped roles it has. Sorted.
   */
  groups: string[];
  /** The account owner (Contabo): never changed by the sync. */
  owner: boolean;
}

/** Fault knobs, the same for every target (the IONOS simulator's `Faults`). */
export interface TargetFaultKnobs {
  /** Replaces the faults in force; `{}` switches them off (but not `down`). */
  set(faults: Faults): void;
  /** Down: every API call answers 503 until `down(false)`. */
  down(on: boolean): void;
  /** Injected faults so far, by kind. */
  counts(): Record<string, number>;
}

/** One target's simulator, read in the target-neutral shape. */
export interface TargetView {
  readonly name: TargetName;
  readonly capabilities: TargetCapabilities;
  /** Whether the target keeps first and last names on the account (Cloudflare: the person's). */
  readonly keepsNames: boolean;
  users(): ViewUser[];
  /** Compared case-insensitively; `undefined` when none. */
  user(email: string): ViewUser | undefined;
  /** How many users have this email (to prove there is never a duplicate). */
  usersWithEmail(email: string): number;
  /** Names of the groups the target holds (empty where it has none). */
  groupNames(): string[];
  /** Adds a user as a person would in the target's console; returns its id. */
  addUnmanagedUser(email: string, options?: { admin?: boolean; owner?: boolean }): string;
  /** API calls so far. */
  calls(): number;
  /** Creates the target applied (answered 2xx, or applied with the answer lost). */
  appliedCreates(): number;
  readonly faults: TargetFaultKnobs;
}

/** A running target simulator: its view, the service settings it needs, and how to stop it. */
export interface TargetSimulator {
  view: TargetView;
  /** Environment for the service (empty for IONOS, which the harness configures). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Options for {@linkcode targetMapping}. */
export interface TargetMappingOptions {
  /** IdP group names synced to the target (IONOS and Cloudflare groups, Contabo roles). */
  groups: readonly string[];
  /** IdP groups whose members become administrators. @default [] */
  administrators?: readonly string[];
  /** More top-level mapping fields (onUserDeleted, adopt, protectedEmails, ...). */
  extra?: Record<string, unknown>;
}

/**
 * The mapping a scenario runs with on `target`: the target listed beside IONOS (which always
 * runs), each of `groups` synced to it. Contabo has no groups: the i-th group grants role
 * `CONTABO_FIRST_ROLE + i`, which the view reads back as that group's name. JSON is YAML.
 */
export function targetMapping(target: TargetName, options: TargetMappingOptions): string {
  const { groups, administrators = [], extra = {} } = options;
  return JSON.stringify({
    targets: target === "ionos" ? ["ionos"] : ["ionos", target],
    administrators,
    groups: { include: groups.length ? groups : ["-none-"] },
    contabo: {
      roles: Object.fromEntries(groups.map((g, i) => [g, [CONTABO_FIRST_ROLE + i]])),
    },
    cloudflare: { memberRoles: [CF_MEMBER_ROLE], groups: { include: groups } },
    ...extra,
  });
}

/** Options for {@linkcode startTargetSimulator}. */
export interface StartTargetOptions {
  /** The IONOS simulator (the harness's); required for `ionos`, which has no other. */
  ionos?: RunningSimulator;
  /** The groups of {@linkcode targetMapping}, in the same order (Contabo reads roles back). */
  groups?: readonly string[];
  /** Seed of the fault dice. @default 1 */
  seed?: number;
  /** Faults from the start. @default none */
  faults?: Faults;
  /** Extra delay on every call (ms). @default 0 */
  latencyMs?: number;
}

/**
 * Starts `target`'s simulator (IONOS: wraps the one given) and returns its view.
 *
 * @throws {Error} for `ionos` without `options.ionos`
 */
export async function startTargetSimulator(
  target: TargetName,
  options: StartTargetOptions = {},
): Promise<TargetSimulator> {
  const { groups = [], seed = 1, faults = {}, latencyMs = 0 } = options;
  const start: Faults = latencyMs ? { ...faults, latencyMs } : faults;
  if (target === "ionos") {
    if (!options.ionos) {
      throw new Error("startTargetSimulator: ionos needs the harness's simulator");
    }
    return { view: ionosView(options.ionos), env: {}, close: () => Promise.resolve() };
  }
  if (target === "contabo") {
    const sim = await startContaboSimulator({ roleIds: CONTABO_ROLES, seed, faults: start });
    return {
      view: contaboView(sim, groups),
      env: {
        CONTABO_API_URL: sim.url,
        CONTABO_AUTH_URL: sim.authUrl,
        CONTABO_CLIENT_ID: CONTABO_SIM_CREDENTIALS.clientId,
        CONTABO_CLIENT_SECRET: CONTABO_SIM_CREDENTIALS.clientSecret,
        CONTABO_API_USER: CONTABO_SIM_CREDENTIALS.apiUser,
        CONTABO_API_PASSWORD: CONTABO_SIM_CREDENTIALS.apiPassword,
        CONTABO_RATE_LIMIT_RPS: "1000",
      },
      close: () => sim.close(),
    };
  }
  const sim = await startCloudflareSimulator({ rateLimit: 0, seed, faults: start });
  return {
    view: cloudflareView(sim),
    env: {
      CLOUDFLARE_API_URL: sim.url,
      CLOUDFLARE_API_TOKEN: CLOUDFLARE_SIM_TOKEN,
      CLOUDFLARE_ACCOUNT_ID: CLOUDFLARE_SIM_ACCOUNT,
      CLOUDFLARE_RATE_LIMIT_RPS: "1000",
    },
    close: () => sim.close(),
  };
}

const lower = (s: string) => s.toLowerCase();
const applied = (c: { status: number; fault?: string }) =>
  (c.status >= 200 && c.status < 300) || c.fault === "lostAnswer";

/** Shared parts: lookups by email over `users()`. */
function byEmail(users: () => ViewUser[]) {
  return {
    user: (email: string) => users().find((u) => lower(u.email) === lower(email)),
    usersWithEmail: (email: string) =>
      users().filter((u) => lower(u.email) === lower(email)).length,
  };
}

function ionosView(running: RunningSimulator): TargetView {
  const sim = running.sim;
  const users = () =>
    sim.state.users().map((u): ViewUser => ({
      id: u.id,
      email: u.properties.email,
      enabled: u.properties.active,
      admin: u.properties.administrator,
      pending: false,
      firstName: u.properties.firstname,
      lastName: u.properties.lastname,
      groups: sim.state.userGroups(u.id).map((g) => sim.state.group(g)!.properties.name).sort(),
      owner: false,
    }));
  return {
    name: "ionos",
    capabilities: TARGET_CAPABILITIES.ionos,
    keepsNames: true,
    users,
    ...byEmail(users),
    groupNames: () => sim.state.groups().map((g) => g.properties.name).sort(),
    addUnmanagedUser: (email, o = {}) =>
      sim.state.addUser({
        firstname: "Hand",
        lastname: "Made",
        email,
        administrator: !!o.admin || !!o.owner,
      }).id,
    calls: () => sim.callLog.length,
    appliedCreates: () =>
      sim.callLog.filter((c) => c.method === "POST" && /\/um\/users$/.test(c.path) && applied(c))
        .length,
    faults: {
      set: (f) => sim.setFaults(f),
      down: (on) => sim.setFaults(on ? { error5xxRate: 1, status5xx: 503 } : {}),
      counts: () => ({ ...sim.stats().faults }),
    },
  };
}

function contaboView(running: RunningContaboSimulator, groups: readonly string[]): TargetView {
  const sim = running.sim;
  const roleGroup = new Map(groups.map((g, i) => [CONTABO_FIRST_ROLE + i, g]));
  const users = () =>
    [...sim.users.values()].map((u): ViewUser => ({
      id: u.userId,
      email: u.email,
      enabled: u.enabled,
      admin: u.admin,
      pending: false,
      firstName: u.firstName,
      lastName: u.lastName,
      groups: u.roles.map((r) => roleGroup.get(r) ?? `role-${r}`).sort(),
      owner: u.owner,
    }));
  return {
    name: "contabo",
    capabilities: TARGET_CAPABILITIES.contabo,
    keepsNames: true,
    users,
    ...byEmail(users),
    groupNames: () => [],
    addUnmanagedUser: (email, o = {}) =>
      sim.addUser({
        email,
        firstName: "Hand",
        lastName: "Made",
        admin: !!o.admin,
        owner: !!o.owner,
      }).userId,
    calls: () => sim.calls.length,
    appliedCreates: () =>
      sim.calls.filter((c) => c.method === "POST" && c.path === "/v1/users" && applied(c)).length,
    faults: {
      set: (f) => sim.setFaults(f),
      down: (on) => sim.setDown(on),
      counts: () => ({ ...sim.faultCounts() }),
    },
  };
}

function cloudflareView(running: RunningCloudflareSimulator): TargetView {
  const sim = running.sim;
  const users = () =>
    [...sim.members.values()].map((m): ViewUser => ({
      id: m.id,
      email: m.email,
      enabled: true,
      admin: false,
      pending: m.status === "pending",
      groups: [...sim.userGroups.values()].filter((g) => g.members.has(m.id)).map((g) => g.name)
        .sort(),
      owner: false,
    }));
  return {
    name: "cloudflare",
    capabilities: TARGET_CAPABILITIES.cloudflare,
    keepsNames: false,
    users,
    ...byEmail(users),
    groupNames: () => [...sim.userGroups.values()].map((g) => g.name).sort(),
    addUnmanagedUser: (email, o = {}) =>
      sim.addMember(
        email,
        // An administrator's role, so that `non-admin` adoption refuses it as for the others.
        o.admin || o.owner ? ["33666b9c79b9a5273fc7344ff42f953d"] : [CF_MEMBER_ROLE],
      ).id,
    calls: () => sim.calls.length,
    appliedCreates: () =>
      sim.calls.filter((c) =>
        c.method === "POST" && /\/accounts\/[^/]+\/members$/.test(c.path) && applied(c)
      )
        .length,
    faults: {
      set: (f) => sim.setFaults(f),
      down: (on) => sim.setDown(on),
      counts: () => ({ ...sim.faultCounts() }),
    },
  };
}

/** A harness (Redis, IONOS simulator, service) with one target's simulator and view. */
export interface TargetHarness {
  h: Harness;
  view: TargetView;
  /** Failed jobs of IONOS's queue and of the target's, as `queue kind:id: reason`. */
  failedJobs(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Starts `target`'s simulator, then the harness with its settings and {@linkcode targetMapping}.
 * IONOS runs in every harness; for `ionos` the view reads the harness's own simulator.
 */
export async function startTargetHarness(
  target: TargetName,
  options: TargetMappingOptions & { harness?: HarnessOptions; sim?: StartTargetOptions },
): Promise<TargetHarness> {
  const { harness = {}, sim: simOptions = {}, ...mapping } = options;
  const groups = mapping.groups;
  const other = target === "ionos"
    ? undefined
    : await startTargetSimulator(target, { ...simOptions, groups });
  const h = await startHarness({
    ...harness,
    mapping: targetMapping(target, mapping),
    env: { ...other?.env, ...harness.env },
  });
  const sim = other ?? await startTargetSimulator("ionos", { ...simOptions, ionos: h.sim, groups });
  if (target === "ionos" && (simOptions.faults || simOptions.latencyMs)) {
    sim.view.faults.set({ ...simOptions.faults, latencyMs: simOptions.latencyMs ?? 0 });
  }
  return {
    h,
    view: sim.view,
    failedJobs: () => failedJobs(h, target),
    async stop() {
      await h.stop();
      await sim.close();
    },
  };
}

/** Failed jobs of the IONOS queue and of `target`'s queue, with their reasons. */
export async function failedJobs(h: Harness, target: TargetName): Promise<string[]> {
  const r = h.redis.client();
  try {
    const queues = ["ionos-sync", ...(target === "ionos" ? [] : [targetQueueName(target)])];
    const out: string[] = [];
    for (const q of queues) {
      for (const id of await r.zrange(`${h.bullPrefix}:${q}:failed`, "0", "-1")) {
        const job = await r.hgetall(`${h.bullPrefix}:${q}:${id}`);
        const data = JSON.parse(job.data ?? "{}") as { kind?: string; id?: string };
        out.push(`${q} ${data.kind}:${data.id}: ${job.failedReason}`);
      }
    }
    return out;
  } finally {
    r.disconnect();
  }
}
