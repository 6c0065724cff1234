/**
 * The invariants of issue 12 (resource shares and S3 keys), checked like those of issue 8 once
 * the queue has drained:
 * - (g) shares: a group an alive in-scope IdP group manages has exactly the mapping's shares for
 *   its final name (flags included) plus its hand-made shares as they were; every other group
 *   has exactly the shares it had at the start (hand-made ones are never removed, a taken-over
 *   one is put back); a resource IONOS does not have is never shared;
 * - (h) S3 keys: protected and unmanaged accounts' keys are never written and end as they
 *   started; a managed account that ends deactivated has its keys closed per
 *   `offboarding.s3Keys`; a key that started off is never turned on; a managed account that
 *   ends active has every key that started active active again (or deleted, under `delete`).
 */
import type { SimShare } from "../../src/targets/ionos/simulator/mod.ts";
import { type ModelCase, UNKNOWN_RESOURCE } from "./generator.ts";
import type { Observed, Violation } from "./invariants.ts";
import { normalizeEmail, type Wanted } from "./oracle.ts";

/** Keys per account (key id -> active) and shares per group (resource -> "edit,share"). */
export interface AccessSnapshot {
  keys: Map<string, Map<string, boolean>>;
  shares: Map<string, Map<string, string>>;
}

/** A share's flags in the form the snapshot keeps. */
export function shareFlags(s: Pick<SimShare, "editPrivilege" | "sharePrivilege">): string {
  return `edit=${s.editPrivilege},share=${s.sharePrivilege}`;
}

const showMap = (m: Map<string, unknown> | undefined) =>
  `{${[...(m ?? new Map())].map(([k, v]) => `…${k.slice(-4)}:${v}`).sort().join(" ")}}`;

/** Checks (g) and (h); returns the violations (empty when all hold). */
export function checkAccessInvariants(c: ModelCase, w: Wanted, o: Observed): Violation[] {
  const out: Violation[] = [];
  const fail = (invariant: string, message: string) => out.push({ invariant, message });
  const m = c.mapping;
  const protectedEmails = new Set(m.protectedEmails.map(normalizeEmail));
  const policy = m.offboarding?.s3Keys ?? "deactivate";

  // --- (g) shares
  const failedGroups = new Set(
    o.failed.filter((f) => !/unknown IONOS resource/.test(f.reason)).map((f) => f.entity),
  );
  for (const [gid, now] of o.access.shares) {
    const initial = o.initial.access.shares.get(gid) ?? new Map<string, string>();
    if (now.has(UNKNOWN_RESOURCE)) {
      fail("g", `group ${gid.slice(0, 8)} shares the unknown resource`);
    }
    const owner = o.managedGroups.get(gid);
    const wanted = owner === undefined ? undefined : w.groups.get(owner);
    const twin = owner === undefined ? undefined : o.groupTwins.get(owner);
    const synced = wanted?.alive && wanted.inScope && twin?.ionosId === gid &&
      !failedGroups.has(`group:${owner}`) && twin.state !== "failed";
    const expected = new Map(initial);
    if (synced) {
      for (const s of m.groups.shares?.[wanted.name] ?? []) {
        if (s.resource === UNKNOWN_RESOURCE) continue;
        expected.set(s.resource, shareFlags({ editPrivilege: s.edit, sharePrivilege: s.share }));
      }
    } else if (owner !== undefined && wanted?.alive && wanted.inScope) {
      continue; // its last sync failed or was a conflict: (f) and converge report that
    }
    if (showMap(now) !== showMap(expected)) {
      fail(
        "g",
        `group ${gid.slice(0, 8)} (${
          synced ? `managed as "${wanted!.name}"` : "not synced"
        }) has shares ${showMap(now)}, expected ${showMap(expected)}`,
      );
    }
  }

  // --- (h) S3 keys
  const keyWrites = new Set<string>();
  for (const call of o.calls) {
    const x = call.path.match(/\/um\/users\/([^/]+)\/s3keys/);
    if (x && call.method !== "GET") keyWrites.add(x[1]!);
  }
  for (const [uid, initial] of o.initial.access.keys) {
    if (initial.size === 0) continue;
    const user = o.users.get(uid);
    if (!user) continue; // deleted with its keys
    const now = o.access.keys.get(uid) ?? new Map<string, boolean>();
    const who = `${uid.slice(0, 8)} <${user.email}>`;
    const managed = o.managedUsers.has(uid);
    if (protectedEmails.has(normalizeEmail(user.email)) || !managed) {
      if (keyWrites.has(uid)) fail("h", `keys of ${who} (protected or unmanaged) were written`);
      if (showMap(now) !== showMap(initial)) {
        fail("h", `keys of ${who} changed from ${showMap(initial)} to ${showMap(now)}`);
      }
      continue;
    }
    for (const [key, active] of now) {
      if (active && initial.get(key) === false) fail("h", `key ${key} of ${who} was turned on`);
    }
    if (!user.active) {
      const closed = policy === "delete"
        ? now.size === 0
        : policy === "deactivate"
        ? [...now.values()].every((a) => !a)
        : showMap(now) === showMap(initial);
      if (!closed) {
        fail("h", `keys of deactivated ${who} are ${showMap(now)} under s3Keys: ${policy}`);
      }
    } else {
      for (const [key, active] of initial) {
        if (!active) continue;
        const end = now.get(key);
        if (end === false || (end === undefined && policy !== "delete")) {
          fail("h", `key ${key} of active ${who} started active and ended ${end ?? "deleted"}`);
        }
      }
    }
  }
  return out;
}
