/**
 * Every Redis key the service names under its prefix, in one place, so operators can find them:
 * the sync store's, the SCIM store's (`scim`), each target's twin records (`target`), the event
 * and audit logs', the unknown-event counts, the console's sessions and activity. The strings
 * are pinned by test/store/keys.test.ts: renaming one would orphan the data stored under it.
 *
 * Two exceptions, both outside the prefix:
 * - BullMQ names its own (`bull:<queue>:*`, read through `queue.keys`, see
 *   src/queue/atomic_enqueue.ts);
 * - the shared rate limiters, `{<target>:rl:<hash>}:*` (src/targets/rate_limiter.ts): a hash of
 *   the API URL and credential names the budget, so every service on one account shares it
 *   whatever its prefix, and the limiter's script wraps the name in a hash tag of its own.
 *
 * Lua scripts build no key names: every key a script touches is built here and passed in KEYS
 * (Redis' own rule for scripts, https://redis.io/docs/latest/develop/interact/programmability/eval-intro/).
 * A script whose keys depend on stored relations (src/store/apply_events.lua, the owner release
 * in owner_bindings.ts) says which keys it lacks before writing anything, and is called again
 * with them. Tests run every script under a guard that refuses an undeclared key
 * (src/store/lua_key_guard.ts).
 *
 * On a Redis Cluster the prefixes are hash tags (`{sync}`, and `{sync}bull` for BullMQ: see
 * `clusterPrefix` and `bullPrefixFor` in redis_connection.ts), so all keys of the store share
 * one slot and any script's KEYS do too.
 */
export interface StoreKeys {
  user(id: string): string;
  group(id: string): string;
  /** Hash: IdP user id -> "1:<t>" (member) or "0:<t>" (removed at t). */
  members(groupId: string): string;
  /** Set of IdP group ids the user is a member of. */
  userGroups(userId: string): string;
  users: string;
  groups: string;
  /**
   * Hash: "g:<group id>" / "u:<user id>" -> time (ms) before which membership changes are
   * ignored (the latest delete, or a group's latest full member list).
   */
  memberFences: string;
  seenEvent(id: string): string;
  seenDelivery(id: string): string;
  /** Sorted set of entity keys ("user:<id>") whose sync job may not have been enqueued yet. */
  outbox: string;
  /**
   * BullMQ's job counter as it stood before the intake's job adds, kept only within one
   * transaction (set before the adds, read and deleted after them; see `outboxClearCalls`).
   */
  outboxAddMark: string;
  /** Hash: the IONOS twin of an IdP user or group (src/targets/ionos/records.ts). */
  ionosUser(id: string): string;
  ionosGroup(id: string): string;
  /** Hash: IONOS id -> IdP id, for users and groups we manage. */
  managedUsers: string;
  managedGroups: string;
  /**
   * Sorted set: write leases on one managed IONOS user (token -> deadline ms), held while a job
   * writes to it for its holder, so that it does not pass to another IdP user meanwhile
   * (src/targets/write_lease.ts).
   */
  ionosWriting(ionosId: string): string;
  /**
   * Hash: a bound value (a normalized email, an IONOS group name) -> the one IdP user or group
   * that may hold an IONOS account or group with it. `kind` is "email" or "group-name".
   */
  owners(kind: string): string;
  /** Set of the values an IdP entity holds in `owners(kind)`. */
  held(kind: string, idpId: string): string;
  /** Set of IdP entities that lost a claim on the value, re-synced when it is released. */
  waiters(kind: string, value: string): string;
  /** Stream of accepted events (src/ops/oplog/event_log.ts). */
  eventLog: string;
  /** An event id -> its event log entry id. */
  eventLogById(eventId: string): string;
  /** List of the newest event log entry ids of one entity ("user:<id>"). */
  eventLogByEntity(entity: string): string;
  /** Stream of operator actions (src/ops/oplog/audit_log.ts). */
  auditLog: string;
  /** Hash `<source>:<type>` -> count of events acknowledged but not acted on. */
  unknownEvents: string;
  /** The SCIM resource store's keys (src/scim/store.ts). */
  scim: ScimKeys;
  /**
   * Hash: entity key ("user:<id>") -> time (ms) reconcile last asked for its sync. A job waiting
   * for its IONOS requests reads it to notice such an ask (workers/wanted_fingerprint.ts).
   */
  nudges: string;
  /** Hash of one minute's activity counts (src/console/activity.ts); `minute` is its start, ms. */
  activity(minute: number): string;
  /**
   * String (JSON, with a TTL) of one console session (src/console/session.ts); `handle` is the
   * SHA-256 of the cookie's session id, never the id itself.
   */
  consoleSession(handle: string): string;
  /** One target's twin records (src/targets/links.ts); `target` is "ionos", "contabo"... */
  target(target: string): TargetLinkKeys;
}

/** Keys of one target's twin records; `kind` is "user" or "group". */
export interface TargetLinkKeys {
  /** Hash: the target twin of an IdP user or group (targetId, origin, last result). */
  link(kind: string, idpId: string): string;
  /** Hash: target id -> IdP id, for the objects of this kind the service manages. */
  managed(kind: string): string;
  /**
   * Sorted set with a TTL: the tokens (scored by deadline) of the jobs writing to one target
   * object now, so that the object does not pass to another IdP entity meanwhile
   * (src/targets/write_lease.ts). Was a string (one token) before the lease was shared with
   * IONOS: a lease lasts 30 s, so one left by an older worker is gone 30 s after the upgrade
   * (until then the scripts on it fail with WRONGTYPE, and the job is retried).
   */
  writing(kind: string, targetId: string): string;
}

/** Keys of the SCIM resource store; `type` is "User" or "Group". */
export interface ScimKeys {
  /** Hash {v: version, doc: JSON} of one resource. */
  resource(type: string, id: string): string;
  /** Sorted set of ids by creation sequence: list order. */
  index(type: string): string;
  /** Counter: the creation sequence that scores `index(type)`. */
  seq(type: string): string;
  /** Hash lower-cased userName / displayName -> id. */
  unique(type: string): string;
  /** Sorted set: the lookup index of externalId and emails.value. */
  lookup(type: string): string;
  /** Set when `lookup(type)` is complete. */
  lookupReady(type: string): string;
  /** Hash event id -> SyncEvent JSON not yet ingested. */
  pending: string;
}

export function storeKeys(prefix: string): StoreKeys {
  return {
    user: (id) => `${prefix}:user:${id}`,
    group: (id) => `${prefix}:group:${id}`,
    members: (id) => `${prefix}:members:${id}`,
    userGroups: (id) => `${prefix}:user-groups:${id}`,
    users: `${prefix}:users`,
    memberFences: `${prefix}:member-fences`,
    groups: `${prefix}:groups`,
    seenEvent: (id) => `${prefix}:seen:${id}`,
    seenDelivery: (id) => `${prefix}:seen-delivery:${id}`,
    outbox: `${prefix}:outbox`,
    outboxAddMark: `${prefix}:outbox:add-mark`,
    ionosUser: (id) => `${prefix}:ionos:user:${id}`,
    ionosGroup: (id) => `${prefix}:ionos:group:${id}`,
    managedUsers: `${prefix}:managed:users`,
    managedGroups: `${prefix}:managed:groups`,
    ionosWriting: (id) => `${prefix}:ionos:writing:user:${id}`,
    owners: (kind) => `${prefix}:owners:${kind}`,
    held: (kind, id) => `${prefix}:held:${kind}:${id}`,
    waiters: (kind, value) => `${prefix}:waiters:${kind}:${value}`,
    eventLog: `${prefix}:eventlog`,
    eventLogById: (eventId) => `${prefix}:eventlog:id:${eventId}`,
    eventLogByEntity: (entity) => `${prefix}:eventlog:entity:${entity}`,
    auditLog: `${prefix}:auditlog`,
    unknownEvents: `${prefix}:stats:unknown-events`,
    scim: scimKeys(`${prefix}:scim`),
    nudges: `${prefix}:nudges`,
    activity: (minute) => `${prefix}:console:activity:${minute}`,
    consoleSession: (handle) => `${prefix}:console:session:${handle}`,
    target: (target) => targetLinkKeys(`${prefix}:target:${target}`),
  };
}

function targetLinkKeys(root: string): TargetLinkKeys {
  return {
    link: (kind, idpId) => `${root}:${kind}:${idpId}`,
    managed: (kind) => `${root}:managed:${kind}`,
    writing: (kind, targetId) => `${root}:writing:${kind}:${targetId}`,
  };
}

function scimKeys(root: string): ScimKeys {
  return {
    resource: (type, id) => `${root}:res:${type}:${id}`,
    index: (type) => `${root}:idx:${type}`,
    seq: (type) => `${root}:seq:${type}`,
    unique: (type) => `${root}:uniq:${type}`,
    lookup: (type) => `${root}:ix:${type}`,
    lookupReady: (type) => `${root}:ixready:${type}`,
    pending: `${root}:pending`,
  };
}
