/**
 * Every Redis key the sync store uses, in one place, so operators can find them. Other modules
 * keep their own keys under the same prefix: `<prefix>:scim:*` (src/scim/store.ts),
 * `<prefix>:eventlog*` and `<prefix>:auditlog` (src/ops), `<prefix>:stats:unknown-events`
 * (src/adapters); BullMQ uses `bull:ionos-sync:*`; the IONOS rate limiter `{ionos:rl:<hash>}:*`.
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
  /** Hash: the IONOS twin of an IdP user or group (ionosId, origin, last result). */
  ionosUser(id: string): string;
  ionosGroup(id: string): string;
  /** Hash: IONOS id -> IdP id, for users and groups we manage. */
  managedUsers: string;
  managedGroups: string;
  /**
   * Hash: a bound value (a normalized email, an IONOS group name) -> the one IdP user or group
   * that may hold an IONOS account or group with it. `kind` is "email" or "group-name".
   */
  owners(kind: string): string;
  /** Set of the values an IdP entity holds in `owners(kind)`. */
  held(kind: string, idpId: string): string;
  /** Set of IdP entities that lost a claim on the value, re-synced when it is released. */
  waiters(kind: string, value: string): string;
  /**
   * Hash: entity key ("user:<id>") -> time (ms) reconcile last asked for its sync. A job waiting
   * for its IONOS requests reads it to notice such an ask (workers/wanted_fingerprint.ts).
   */
  nudges: string;
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
    ionosUser: (id) => `${prefix}:ionos:user:${id}`,
    ionosGroup: (id) => `${prefix}:ionos:group:${id}`,
    managedUsers: `${prefix}:managed:users`,
    managedGroups: `${prefix}:managed:groups`,
    owners: (kind) => `${prefix}:owners:${kind}`,
    held: (kind, id) => `${prefix}:held:${kind}:${id}`,
    waiters: (kind, value) => `${prefix}:waiters:${kind}:${value}`,
    nudges: `${prefix}:nudges`,
  };
}
