/**
 * The drift report of a target beside IONOS (Contabo, Cloudflare): the shape both plans share,
 * and the small helpers they both use. The decisions themselves are the targets' own pure
 * modules (src/targets/<cloud>/decisions.ts), the very functions their workers call; the plans
 * here only feed them what reconcile read and say in words what they answered.
 */
import type { QueuedTarget } from "../../queue/target_queue.ts";
import type { EntityKey } from "../../store/wanted_state.ts";
import type { TargetLink } from "../../targets/links.ts";
import type { WantedSnapshot } from "./snapshot.ts";

export const TARGET_PLAN_ACTIONS = [
  "create",
  "adopt",
  "update",
  "deactivate",
  "reactivate",
  "delete",
  "add-role",
  "remove-role",
  "add-member",
  "remove-member",
  "conflict",
  "unmanaged",
] as const;
export type TargetPlanAction = typeof TARGET_PLAN_ACTIONS[number];

/** One change a target's sync job would make, or one account the sync leaves alone. */
export interface TargetPlanItem {
  /** The entity whose job makes the change; absent for `unmanaged` (no job ever touches it). */
  entity?: EntityKey;
  action: TargetPlanAction;
  /** Email (users) or group name. */
  label: string;
  /** What and why, e.g. "roles 102" or "account owner: never changed by the sync". */
  detail: string;
  /** The target's own id of the user or group, where it has one. */
  targetId?: string;
}

/** A target's drift report. */
export interface TargetPlan {
  target: QueuedTarget;
  items: TargetPlanItem[];
  /** Items per action; every action is present, zero or not. */
  counts: Record<TargetPlanAction, number>;
  /** Entities whose target job carries the plan out, each once (never an unmanaged account). */
  entities: EntityKey[];
}

/** What a plan reads of the wanted state. */
export type WantedView = Pick<WantedSnapshot, "users" | "groups" | "members" | "userGroups">;

/** A twin as reconcile reads it: the target object and how the sync came to manage it. */
export type TwinView = Required<Pick<TargetLink, "targetId" | "origin">>;

/** A target's twin records of every wanted entity, and the target ids it manages. */
export interface TargetTwins {
  users: Map<string, TwinView>;
  groups: Map<string, TwinView>;
  /** Target user id -> IdP user id. */
  managedUsers: Map<string, string>;
  /** Target group id -> IdP group id. */
  managedGroups: Map<string, string>;
}

/** Counts and entities of a list of items. */
export function finishPlan(target: QueuedTarget, items: TargetPlanItem[]): TargetPlan {
  const counts = Object.fromEntries(TARGET_PLAN_ACTIONS.map((a) => [a, 0])) as Record<
    TargetPlanAction,
    number
  >;
  for (const item of items) counts[item.action]++;
  const entities = [
    ...new Set(items.flatMap((i) => (i.entity && i.action !== "unmanaged" ? [i.entity] : []))),
  ];
  return { target, items, counts, entities };
}

/**
 * What a job starts from, as the workers find it: the linked object while it still exists
 * (its origin with it); else, when the decisions module says to look (`lookUp`), the one with
 * the wanted email or name, as not managed yet.
 */
export function startingPoint<T>(
  twin: TwinView | undefined,
  byId: ReadonlyMap<string, T>,
  lookUp: boolean,
  find: () => T | undefined,
): { current: T | undefined; origin: TwinView["origin"] | undefined; gone?: string } {
  const linked = twin ? byId.get(twin.targetId) : undefined;
  if (linked) return { current: linked, origin: twin!.origin };
  // A linked object that is gone was deleted outside the sync: the job forgets the link.
  const gone = twin ? { gone: twin.targetId } : {};
  return { current: lookUp ? find() : undefined, origin: undefined, ...gone };
}

/** Every IdP id to look at: the wanted ones, and the managed ones the IdP no longer has. */
export function idsToPlan(wanted: ReadonlyMap<string, unknown>, managed: Map<string, string>) {
  return [...new Set([...wanted.keys(), ...managed.values()])];
}

/** The display names of the live IdP groups a user is in (as workers/target_context.ts reads). */
export function groupNamesIn(wanted: WantedView, userId: string): string[] {
  const names: string[] = [];
  for (const id of wanted.userGroups.get(userId) ?? []) {
    const g = wanted.groups.get(id);
    if (g && !g.deleted) names.push(g.displayName);
  }
  return names;
}

/** A value for a detail text. */
export const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));
