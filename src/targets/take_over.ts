/**
 * Whose an account found by email is, for a target beside IONOS: one account never gets two
 * owners. Pure; the workers (`takeOverFound()` in workers/target_context.ts) and reconcile's
 * plans (src/ops/reconcile/target_plan.ts) both ask it, so the plan says what the job does.
 */
import { normalizeEmail } from "../config/mapping.ts";
import type { WantedUser } from "../store/wanted_state.ts";
import type { TargetLink } from "./links.ts";
import { TARGET_CAPABILITIES, type TargetName } from "./target.ts";

/** What a job does with an account it found by email. */
export type FoundAccountClaim =
  /** Nobody else holds it: the adoption rules decide. */
  | { kind: "free" }
  /** A live IdP user with this email holds it: a person must act. */
  | { kind: "conflict"; reason: string }
  /**
   * Its live holder wants another email now, or its deleted holder's job removes it: that job
   * moves the account away (or removes it) first.
   */
  | { kind: "wait"; reason: string }
  /**
   * Its holder was deleted at the IdP (the same person re-created under a new id) and its own
   * job keeps it: the job takes it over with the holder's origin (`undefined` when the holder's
   * link no longer points at it: the adoption rules decide), and the holder's link is dropped
   * first.
   */
  | { kind: "take-over"; from: string; origin: "created" | "adopted" | undefined };

/**
 * Whether the job of an IdP entity deleted at the IdP takes its `kind` of object away from
 * `target` for good, rather than keeping it (disabled) for a take-over: a target that cannot
 * deactivate removes the member, and a group's object is deleted (created) or released
 * (adopted). The workers and reconcile's plans both ask, for `holderRemoves`.
 */
export function deletedHolderRemoves(target: TargetName, kind: "user" | "group"): boolean {
  return kind === "group" || !TARGET_CAPABILITIES[target].deactivate;
}

/** Everything `claimFoundAccount` reads. */
export interface FoundAccountFacts {
  /** The target, for the words. */
  target: string;
  /** The IdP user whose job found the account. */
  idpId: string;
  /** The found account's target id and email. */
  targetId: string;
  email: string;
  /** The IdP user whose link holds `targetId` (the managed index), if any. */
  holder: string | undefined;
  /** The holder's wanted user; `undefined` when the IdP no longer knows it. */
  holderUser: WantedUser | undefined;
  /** The holder's link. */
  holderLink: Pick<TargetLink, "targetId" | "origin" | "state"> | undefined;
  /**
   * The live holder's own job keeps the account's address: the address the holder wants now is
   * protected, and a user is never moved to a protected address. @default false
   */
  holderKeepsAddress?: boolean;
  /**
   * A deleted holder's own job removes the account (Cloudflare, which cannot deactivate,
   * removes the member). @default false
   */
  holderRemoves?: boolean;
}

/**
 * What a job does with an account found by email.
 *
 * @example claimFoundAccount({ ...facts, holder: undefined }) // { kind: "free" }
 */
export function claimFoundAccount(facts: FoundAccountFacts): FoundAccountClaim {
  const { target, email, holderUser } = facts;
  const alive = !!holderUser && !holderUser.deleted;
  return claimFound({
    ...facts,
    kind: "user",
    label: email,
    what: `${target} account of ${email}`,
    holderAlive: alive,
    holderWants: alive && !!holderUser!.email &&
      normalizeEmail(holderUser!.email) === normalizeEmail(email),
    // Its own job will not move the account away when its new address is protected (model
    // test, contabo seed 54).
    holderKeeps: facts.holderKeepsAddress ?? false,
    holderRemoves: facts.holderRemoves ?? false,
  });
}

/** The rules both kinds share; `what` names the found object in the words. */
function claimFound(f: {
  idpId: string;
  targetId: string;
  kind: "user" | "group";
  label: string;
  what: string;
  holder: string | undefined;
  holderAlive: boolean;
  holderWants: boolean;
  holderKeeps: boolean;
  holderRemoves: boolean;
  holderLink: Pick<TargetLink, "targetId" | "origin" | "state"> | undefined;
}): FoundAccountClaim {
  const { holder, holderLink } = f;
  if (!holder || holder === f.idpId) return { kind: "free" };
  const who = `IdP ${f.kind} ${holder}`;
  if (f.holderAlive) {
    if (f.holderWants) {
      return { kind: "conflict", reason: `conflict: ${who} already holds ${f.label}` };
    }
    if (holderLink?.state === "conflict") {
      // The holder's own sync cannot move the object away (a person must act there first):
      // waiting for it would never end (model test, cloudflare seed 32).
      return {
        kind: "conflict",
        reason: `conflict: ${f.what} is held by ${who}, whose own sync is in conflict`,
      };
    }
    if (f.holderKeeps) {
      return {
        kind: "conflict",
        reason: `conflict: ${f.what} stays ${who}'s, whose new address is protected`,
      };
    }
    return { kind: "wait", reason: `${f.what} is still ${who}'s; waiting for its sync` };
  }
  if (f.holderRemoves && holderLink?.targetId === f.targetId) {
    // The deleted holder's own job removes it (or is removing it now: it read its link before
    // this look-up). Taken over, the object would be removed from under its new holder, whose
    // link then names something gone, or whose job fails on it (model test, cloudflare seed
    // 339: a user group deleted under the IdP group that took it over). As IONOS waits for a
    // deleted owner's account to be deleted: once the holder's job let go of it, the next
    // attempt finds it gone (or released) and decides anew.
    return {
      kind: "wait",
      reason: `${f.what} is still deleted ${who}'s, whose own sync removes it; waiting for that`,
    };
  }
  return {
    kind: "take-over",
    from: holder,
    origin: holderLink?.targetId === f.targetId ? holderLink.origin : undefined,
  };
}

/** Everything `claimFoundGroup` reads. */
export interface FoundGroupFacts {
  /** The target, for the words. */
  target: string;
  /** The IdP group whose job found the group. */
  idpId: string;
  /** The found group's target id and name. */
  targetId: string;
  name: string;
  /** The IdP group whose link holds `targetId` (the managed index), if any. */
  holder: string | undefined;
  /** The holder is a live IdP group (known and not deleted). */
  holderAlive: boolean;
  /** The live holder still wants a group of this name. */
  holderWantsName: boolean;
  /** The holder's link. */
  holderLink: Pick<TargetLink, "targetId" | "origin" | "state"> | undefined;
  /**
   * A deleted holder's own job deletes or releases the group (Cloudflare: a created user group
   * is deleted, an adopted one loses its managed members and its link). @default false
   */
  holderRemoves?: boolean;
}

/**
 * What a job does with a group found by name: one target group never serves two IdP groups, or
 * one's members would get the other's access (model test, cloudflare seed 16). Like
 * {@linkcode claimFoundAccount} for accounts.
 *
 * @example claimFoundGroup({ ...facts, holder: undefined }) // { kind: "free" }
 */
export function claimFoundGroup(facts: FoundGroupFacts): FoundAccountClaim {
  const { target, name } = facts;
  return claimFound({
    ...facts,
    kind: "group",
    label: name,
    what: `${target} group ${name}`,
    holderWants: facts.holderWantsName,
    holderKeeps: false,
    holderRemoves: facts.holderRemoves ?? false,
  });
}
