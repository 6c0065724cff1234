/**
 * Pure decisions about the access a group gives through resource shares, and about a user's S3
 * keys around offboarding. The sync steps (workers/sync_shares.ts, workers/sync_s3_keys.ts) write what these
 * say; reconcile (src/ops/reconcile/plan.ts) compares IONOS against the same answers, so the two
 * never disagree about what drift is. The rules are in docs/security.md.
 */
import { isProtectedEmail, type Mapping } from "../../config/mapping.ts";
import type { WantedShare } from "./mapping.ts";

/** A share's flags: `editPrivilege` and `sharePrivilege`. */
export interface ShareFlags {
  edit: boolean;
  share: boolean;
}

/**
 * What the service recorded of a share it set: `"created"` (it made the share, so it deletes it
 * when the mapping drops it), or the flags a share made by hand had before the mapping took it
 * over (put back when the mapping drops it). Shares not recorded are never written.
 */
export type ShareOrigin = "created" | ShareFlags;

/** One share write. */
export interface ShareWrite {
  resource: string;
  op: "create" | "update" | "delete";
  /** The flags to write (create and update). */
  flags?: ShareFlags;
}

/** What a group job does to its shares, in order. */
export interface SharePlan {
  /** Writes that take access away, made first (removal wins): deletes and lowered flags. */
  reduce: ShareWrite[];
  /** Writes that give access: creates and raised flags, made after every reduction. */
  grant: ShareWrite[];
  /** The record to keep before any write: the recorded shares plus the ones about to be set. */
  recordBefore: Map<string, ShareOrigin>;
  /** The record once every write is done. */
  recordAfter: Map<string, ShareOrigin>;
  /** Wanted resources that `GET /um/resources` does not list: not written, reported. */
  unknown: string[];
  /** Shares in IONOS the service did not set and leaves alone (made by hand). */
  handMade: string[];
}

const sameFlags = (a: ShareFlags, b: ShareFlags) => a.edit === b.edit && a.share === b.share;
const lowers = (from: ShareFlags, to: ShareFlags) =>
  (from.edit && !to.edit) || (from.share && !to.share);

/**
 * The share writes that bring a group from `actual` to what the mapping wants.
 *
 * @param wanted the mapping's shares for the group (empty when the group's access ends)
 * @param actual IONOS resource id -> flags, as `GET /um/groups/{id}/shares` lists them
 * @param recorded what the service set before (see {@linkcode parseRecordedShares})
 * @param known resource ids `GET /um/resources` lists, or `undefined` when not asked (no create)
 * @example
 * shareChanges([{ resource: "r1", edit: true, share: false }], new Map(), new Map(), new Set(["r1"]))
 *   .grant; // [{ resource: "r1", op: "create", flags: { edit: true, share: false } }]
 */
export function shareChanges(
  wanted: readonly WantedShare[],
  actual: ReadonlyMap<string, ShareFlags>,
  recorded: ReadonlyMap<string, ShareOrigin>,
  known: ReadonlySet<string> | undefined,
): SharePlan {
  const reduce: ShareWrite[] = [];
  const grant: ShareWrite[] = [];
  const unknown: string[] = [];
  const before = new Map(recorded);
  const after = new Map(recorded);
  const wantedIds = new Set<string>();
  for (const w of wanted) {
    const resource = w.resource.toLowerCase();
    wantedIds.add(resource);
    const flags = { edit: w.edit, share: w.share };
    const now = actual.get(resource);
    if (!now) {
      if (known && !known.has(resource)) {
        unknown.push(resource);
        continue;
      }
      // Recorded before the create: a retry after a lost answer finds it ours.
      before.set(resource, "created");
      after.set(resource, "created");
      grant.push({ resource, op: "create", flags });
      continue;
    }
    // A share made by hand that the mapping now names is taken over; its flags are kept to be
    // put back when the mapping drops it again.
    if (!recorded.has(resource)) {
      before.set(resource, { ...now });
      after.set(resource, { ...now });
    }
    if (sameFlags(now, flags)) continue;
    if (lowers(now, flags)) {
      const lowered = { edit: now.edit && flags.edit, share: now.share && flags.share };
      reduce.push({ resource, op: "update", flags: lowered });
      if (!sameFlags(lowered, flags)) grant.push({ resource, op: "update", flags });
    } else {
      grant.push({ resource, op: "update", flags });
    }
  }
  for (const [resource, origin] of recorded) {
    if (wantedIds.has(resource)) continue;
    const now = actual.get(resource);
    after.delete(resource);
    if (!now) continue; // gone already: only forgotten
    if (origin === "created") {
      reduce.push({ resource, op: "delete" });
    } else if (!sameFlags(now, origin)) {
      (lowers(now, origin) ? reduce : grant).push({ resource, op: "update", flags: origin });
    }
  }
  const handMade = [...actual.keys()].filter((r) => !before.has(r) && !wantedIds.has(r));
  return { reduce, grant, recordBefore: before, recordAfter: after, unknown, handMade };
}

/** Reads the `managedShares` field of a group's twin record: `id:c` or `id:<edit><share>`. */
export function parseRecordedShares(recorded: string | undefined): Map<string, ShareOrigin> {
  const out = new Map<string, ShareOrigin>();
  for (const entry of (recorded ?? "").split(",")) {
    const [resource, origin] = entry.split(":");
    if (!resource || !origin) continue;
    out.set(
      resource,
      origin === "c" ? "created" : { edit: origin[0] === "1", share: origin[1] === "1" },
    );
  }
  return out;
}

/** Writes the form {@linkcode parseRecordedShares} reads (sorted, so equal maps compare equal). */
export function formatRecordedShares(recorded: ReadonlyMap<string, ShareOrigin>): string {
  return [...recorded].sort(([a], [b]) => a.localeCompare(b)).map(([resource, origin]) =>
    `${resource}:${origin === "created" ? "c" : `${origin.edit ? 1 : 0}${origin.share ? 1 : 0}`}`
  ).join(",");
}

/** One S3 key as the sync reads it (the secret is never kept). */
export interface S3KeyState {
  id: string;
  active: boolean;
}

/** What a user job does to the user's S3 keys. */
export interface S3KeyPlan {
  deactivate: string[];
  delete: string[];
  activate: string[];
  /** Key ids the service turned off, to keep before any write. */
  recordBefore: string[];
  /** ... and once every write is done. */
  recordAfter: string[];
}

/**
 * The S3 key writes for a managed, unprotected account (ask {@linkcode mayTouchS3Keys} first).
 * While the account is deactivated, `offboarding.s3Keys` says what happens to its keys, on every
 * sync (a key turned on again by hand is drift). Once it is active again, only the keys the
 * service turned off are turned on; the record is emptied.
 *
 * @param accountActive whether the IONOS account is (now) active
 * @param keys the account's keys now
 * @param recorded key ids the service turned off before
 */
export function s3KeyChanges(
  policy: Mapping["offboarding"]["s3Keys"],
  accountActive: boolean,
  keys: readonly S3KeyState[],
  recorded: readonly string[],
): S3KeyPlan {
  const exists = new Set(keys.map((k) => k.id));
  const kept = recorded.filter((id) => exists.has(id));
  const none: S3KeyPlan = {
    deactivate: [],
    delete: [],
    activate: [],
    recordBefore: [...recorded],
    recordAfter: kept,
  };
  if (accountActive) {
    const off = new Set(keys.filter((k) => !k.active).map((k) => k.id));
    return { ...none, activate: kept.filter((id) => off.has(id)), recordAfter: [] };
  }
  if (policy === "keep") return none;
  if (policy === "delete") {
    return { ...none, delete: keys.map((k) => k.id), recordAfter: [] };
  }
  const deactivate = keys.filter((k) => k.active).map((k) => k.id);
  const record = [...new Set([...kept, ...deactivate])].sort();
  return {
    ...none,
    deactivate,
    recordBefore: [...new Set([...recorded, ...record])].sort(),
    recordAfter: record,
  };
}

/**
 * Whether the service may write to an account's S3 keys: only an account it manages (it has a
 * twin record with this IONOS id) whose email is not protected.
 */
export function mayTouchS3Keys(
  mapping: Mapping,
  managedIonosId: string | undefined,
  ionosId: string,
  email: string | undefined,
): boolean {
  return managedIonosId === ionosId && !isProtectedEmail(mapping, email);
}

/** Reads the `s3KeysOff` field of a user's twin record. */
export function parseRecordedKeys(recorded: string | undefined): string[] {
  return (recorded ?? "").split(",").filter(Boolean);
}
