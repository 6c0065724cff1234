/**
 * The drift report of a target beside IONOS (Contabo, Cloudflare): the shape both plans share,
 * and the small helpers they both use. The decisions themselves are the targets' own pure
 * modules (src/targets/<cloud>/decisions.ts), the very functions their workers call; the plans
 * here only feed them what reconcile read and say in words what they answered.
 */
import { isProtectedEmail, type Mapping } from "../../config/mapping.ts";
import type { QueuedTarget } from "../../queue/target_queue.ts";
import type { EntityKey, WantedGroup } from "../../store/wanted_state.ts";
import type { LinkView } from "../../targets/links.ts";
import {
  claimFoundAccount,
  claimFoundGroup,
  deletedHolderRemoves,
  type FoundAccountClaim,
} from "../../targets/take_over.ts";
import type { WantedSnapshot } from "./snapshot.ts";

export const TARGET_PLAN_ACTIONS = [
  "create",
  "adopt",
  "update",
  "deactivate",
  "reactivate",
  "delete",
  "wait",
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
  targetId?: string | undefined;
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

/**
 * A twin as reconcile reads it: the target object and how the sync came to manage it (both or
 * neither), and the `creating` mark of a create whose answer may have been lost.
 */
export type TwinView = LinkView;

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

/** What a job starts from, as `startingPoint()` finds it. */
export interface StartingPoint<T> {
  current: T | undefined;
  origin: "created" | "adopted" | undefined;
  /** The linked object's id when it is gone (deleted outside the sync: the job unlinks it). */
  gone?: string;
  /** Found under the `creating` mark: the sync's own create, which the job links as created. */
  marked?: true;
  /** What the job does with an object found by the wanted email, when `claim` was asked. */
  claim?: FoundAccountClaim;
}

/**
 * What a job starts from, in the workers' order: the linked object while it still exists (its
 * origin with it); else the object under the twin's `creating` mark, the sync's own create whose
 * answer was lost (`created`, whatever the IdP says now); else, when the decisions module says
 * to look, the one with the wanted email or name (`lookUp`): not managed yet, or, for users,
 * what `claim` (`claimFoundAccount()`) says when another IdP user holds it.
 */
export function startingPoint<T>(
  twin: TwinView | undefined,
  byId: ReadonlyMap<string, T>,
  find: (label: string) => T | undefined,
  lookUp: string | undefined,
  claim?: (found: T) => FoundAccountClaim,
  heldByAnother?: (found: T) => boolean,
): StartingPoint<T> {
  const linked = twin?.targetId ? byId.get(twin.targetId) : undefined;
  if (linked) return { current: linked, origin: twin!.origin };
  // A linked object that is gone was deleted outside the sync: the job forgets the link.
  const gone = twin?.targetId ? { gone: twin.targetId } : {};
  // As `claimLostCreate()`: what another IdP entity holds is not this one's lost create.
  const marked = twin?.creating ? find(twin.creating) : undefined;
  const mine = marked && !heldByAnother?.(marked) ? marked : undefined;
  if (mine) return { current: mine, origin: "created", marked: true, ...gone };
  const found = lookUp ? find(lookUp) : undefined;
  if (!found || !claim) return { current: found, origin: undefined, ...gone };
  const claimed = claim(found);
  const origin = claimed.kind === "take-over" ? claimed.origin : undefined;
  return { current: found, origin, claim: claimed, ...gone };
}

/** Builds one plan item of an entity; `targetId` names the object it is about. */
export type ItemOf = (
  action: TargetPlanAction,
  detail: string,
  targetId?: string,
) => TargetPlanItem;

/** Items of `entity`, shown as `label`. */
export function itemFor(entity: EntityKey, label: string): ItemOf {
  return (action, detail, targetId) => ({
    entity,
    action,
    label,
    detail,
    targetId: targetId || undefined,
  });
}

/**
 * The items every target plan opens an entity with, in the workers' order: a found object's
 * claim that is a conflict or a wait, or the decision's conflict (planning of the entity stops
 * there: returns false); then the sync's own lost create linked, or a take-over from a deleted
 * holder (both counted in `adopted`). `noun` names the object ("Contabo user").
 */
export function openingItems(
  start: {
    origin: StartingPoint<unknown>["origin"];
    marked?: true | undefined;
    claim?: FoundAccountClaim | undefined;
  },
  conflict: string | undefined,
  targetId: string | undefined,
  noun: string,
  item: ItemOf,
  out: { items: TargetPlanItem[]; adopted: Set<string> },
): boolean {
  const { claim, marked, origin } = start;
  if (claim?.kind === "conflict" || claim?.kind === "wait") {
    out.items.push(item(claim.kind, claim.reason, targetId));
    return false;
  }
  if (conflict) {
    out.items.push(item("conflict", conflict, targetId));
    return false;
  }
  if (marked) {
    out.adopted.add(targetId!);
    out.items.push(item(
      "adopt",
      `${noun} ${targetId} is the sync's own create whose answer was lost: linked`,
      targetId,
    ));
  }
  if (claim?.kind === "take-over" && origin) {
    out.adopted.add(targetId!);
    const kind = noun.includes("group") ? "group" : "user";
    out.items.push(
      item("adopt", `${noun} ${targetId} passes over from deleted ${kind}:${claim.from}`, targetId),
    );
  }
  return true;
}

/**
 * `claimFoundAccount()` over what reconcile read: the holder from the managed index, its wanted
 * user and its twin.
 */
export function claimIn(
  mapping: Mapping,
  target: QueuedTarget,
  wanted: WantedView,
  twins: TargetTwins,
  idpId: string,
  targetId: string,
  email: string,
): FoundAccountClaim {
  const holder = twins.managedUsers.get(targetId);
  return claimFoundAccount({
    target,
    idpId,
    targetId,
    email,
    holder,
    holderUser: holder === undefined ? undefined : wanted.users.get(holder),
    holderLink: holder === undefined ? undefined : twins.users.get(holder),
    holderKeepsAddress: holder !== undefined &&
      isProtectedEmail(mapping, wanted.users.get(holder)?.email),
    holderRemoves: deletedHolderRemoves(target, "user"),
  });
}

/**
 * `claimFoundGroup()` over what reconcile read: the holder from the managed index, its wanted
 * group and its twin; `wantsName` says whether a live holder still wants a group of that name.
 */
export function claimGroupIn(
  target: QueuedTarget,
  wanted: WantedView,
  twins: TargetTwins,
  idpId: string,
  targetId: string,
  name: string,
  wantsName: (holder: WantedGroup) => boolean,
): FoundAccountClaim {
  const holder = twins.managedGroups.get(targetId);
  const other = holder === undefined ? undefined : wanted.groups.get(holder);
  const alive = !!other && !other.deleted;
  return claimFoundGroup({
    target,
    idpId,
    targetId,
    name,
    holder,
    holderAlive: alive,
    holderWantsName: alive && wantsName(other!),
    holderLink: holder === undefined ? undefined : twins.groups.get(holder),
    holderRemoves: deletedHolderRemoves(target, "group"),
  });
}

/** Whether an IdP entity other than `idpId` holds `targetId` (the managed index). */
export function heldByAnother(managed: Map<string, string>, idpId: string, targetId: string) {
  const holder = managed.get(targetId);
  return holder !== undefined && holder !== idpId;
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
