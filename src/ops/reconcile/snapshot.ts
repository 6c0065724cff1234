/**
 * Reads both sides for reconcile: the wanted state and twin records from Redis, and the users,
 * groups and (managed) group members from IONOS, page by page through the shared rate limiter.
 */
import type { IonosClient } from "../../targets/ionos/client.ts";
import type { IonosS3Key } from "../../targets/ionos/access_types.ts";
import type { ShareFlags } from "../../targets/ionos/access_decisions.ts";
import type { IonosGroup, IonosUser } from "../../targets/ionos/types.ts";
import type { IonosRecords, IonosTwin } from "../../targets/ionos/records.ts";
import type { WantedGroup, WantedStateStore, WantedUser } from "../../store/wanted_state.ts";

/** Progress of a long read: phase name, items done, total when known. */
export type Progress = (phase: string, done: number, total?: number) => void;

export interface WantedSnapshot {
  users: Map<string, WantedUser>;
  groups: Map<string, WantedGroup>;
  /** IdP group id -> IdP user ids that are members now. */
  members: Map<string, string[]>;
  /** IdP user id -> IdP group ids (the reverse of `members`). */
  userGroups: Map<string, string[]>;
  /** The twin records' IONOS ids and origins (all reconcile reads of them), where a twin has one. */
  userTwins: Map<string, TwinFacts>;
  groupTwins: Map<string, TwinFacts>;
  /** IONOS user id -> IdP user id, for users we manage. */
  managedUsers: Map<string, string>;
  managedGroups: Map<string, string>;
}

export interface IonosSnapshot {
  users: Map<string, IonosUser>;
  /** Lower-cased email -> user. */
  usersByEmail: Map<string, IonosUser>;
  groups: Map<string, IonosGroup>;
  /** IONOS group id -> member IONOS user ids; only for groups asked for. */
  members: Map<string, Set<string>>;
  /** IONOS group id -> resource id -> share flags; only for groups asked for. */
  shares?: Map<string, Map<string, ShareFlags>>;
  /** Resource ids `GET /um/resources` lists; read only when the mapping shares any. */
  resources?: Set<string> | undefined;
  /** IONOS user id -> S3 keys (no secrets); only for users asked for. */
  s3Keys?: Map<string, IonosS3Key[]>;
}

/** Which shares and S3 keys reconcile reads, decided once users and groups are listed. */
export interface AccessReads {
  shareGroups: (groups: Map<string, IonosGroup>) => string[];
  keyUsers: (users: Map<string, IonosUser>) => string[];
  /** Read `GET /um/resources` (the mapping names shares). */
  resources: boolean;
}

/** What reconcile reads of a twin record. */
export type TwinFacts = Pick<
  IonosTwin,
  "ionosId" | "origin" | "ownPrivileges" | "managedShares" | "s3KeysOff"
>;

const CHUNK = 500;

/** Runs `fn` over `items` in chunks, so thousands of Redis reads go out pipelined. */
async function inChunks<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += CHUNK) {
    out.push(...await Promise.all(items.slice(i, i + CHUNK).map(fn)));
  }
  return out;
}

/** Reads every wanted user and group, their memberships and twin records. */
export async function readWanted(
  store: WantedStateStore,
  records: IonosRecords,
  progress: Progress = () => {},
): Promise<WantedSnapshot> {
  const [userIds, groupIds, managedUsers, managedGroups] = await Promise.all([
    store.listUserIds(),
    store.listGroupIds(),
    records.managed("user"),
    records.managed("group"),
  ]);
  progress("wanted state", 0, userIds.length + groupIds.length);
  const [userTwins, groupTwins] = await Promise.all([
    twinFacts(records, "user", userIds),
    twinFacts(records, "group", groupIds),
  ]);
  const users = new Map<string, WantedUser>();
  await inChunks(userIds, async (id) => {
    const u = await store.getUser(id);
    if (u) users.set(id, u);
  });
  const groups = new Map<string, WantedGroup>();
  const members = new Map<string, string[]>();
  const userGroups = new Map<string, string[]>();
  for (let i = 0; i < groupIds.length; i += CHUNK) {
    const chunk = groupIds.slice(i, i + CHUNK);
    const [found, memberLists] = await Promise.all([
      store.getGroups(chunk),
      Promise.all(chunk.map((id) => store.getMembers(id))),
    ]);
    chunk.forEach((id, j) => {
      const g = found.get(id);
      if (g) groups.set(id, g);
      const m = memberLists[j]!;
      members.set(id, m);
      for (const uid of m) userGroups.set(uid, [...userGroups.get(uid) ?? [], id]);
    });
  }
  progress("wanted state", userIds.length + groupIds.length, userIds.length + groupIds.length);
  return { users, groups, members, userGroups, userTwins, groupTwins, managedUsers, managedGroups };
}

/** IdP id -> `{ ionosId, origin }` of every twin that has an IONOS id, in pipelined chunks. */
async function twinFacts(
  records: IonosRecords,
  kind: "user" | "group",
  ids: string[],
): Promise<Map<string, TwinFacts>> {
  const out = new Map<string, TwinFacts>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const fields = ["ionosId", "origin", "ownPrivileges", "managedShares", "s3KeysOff"] as const;
    (await records.fieldsOf(kind, chunk, [...fields])).forEach(
      (twin, j) => {
        if (twin.ionosId) out.set(chunk[j]!, twin);
      },
    );
  }
  return out;
}

/**
 * Lists IONOS users and groups (100 per page, depth=1) and the members of the groups named by
 * `memberGroups(groups)`, which sees the listed groups first (managed ones and adoption
 * candidates).
 */
export async function readIonos(
  ionos: IonosClient,
  memberGroups: (groups: Map<string, IonosGroup>) => string[],
  progress: Progress = () => {},
  access?: AccessReads,
): Promise<IonosSnapshot> {
  const users = new Map<string, IonosUser>();
  const usersByEmail = new Map<string, IonosUser>();
  for await (const u of ionos.iterateUsers({ depth: 1 })) {
    users.set(u.id, u);
    const email = u.properties?.email?.toLowerCase();
    if (email) usersByEmail.set(email, u);
    if (users.size % 100 === 0) progress("IONOS users", users.size);
  }
  progress("IONOS users", users.size, users.size);
  const groups = new Map<string, IonosGroup>();
  for await (const g of ionos.iterateGroups({ depth: 1 })) {
    groups.set(g.id, g);
    if (groups.size % 100 === 0) progress("IONOS groups", groups.size);
  }
  progress("IONOS groups", groups.size, groups.size);
  const members = new Map<string, Set<string>>();
  const wanted = memberGroups(groups).filter((id) => groups.has(id));
  for (const [i, id] of wanted.entries()) {
    members.set(id, new Set((await ionos.listGroupMembers(id)).map((u) => u.id)));
    progress("IONOS group members", i + 1, wanted.length);
  }
  const shares = new Map<string, Map<string, ShareFlags>>();
  const s3Keys = new Map<string, IonosS3Key[]>();
  if (!access) return { users, usersByEmail, groups, members, shares, s3Keys };
  const shareGroups = access.shareGroups(groups).filter((id) => groups.has(id));
  for (const [i, id] of shareGroups.entries()) {
    const list = await ionos.listGroupShares(id);
    shares.set(
      id,
      new Map(list.map((s) => [s.id.toLowerCase(), {
        edit: s.properties.editPrivilege,
        share: s.properties.sharePrivilege,
      }])),
    );
    progress("IONOS group shares", i + 1, shareGroups.length);
  }
  const resources = access.resources
    ? new Set((await ionos.listResources()).map((r) => r.id.toLowerCase()))
    : undefined;
  const keyUsers = access.keyUsers(users).filter((id) => users.has(id));
  for (const [i, id] of keyUsers.entries()) {
    s3Keys.set(id, await ionos.listS3Keys(id));
    progress("IONOS S3 keys", i + 1, keyUsers.length);
  }
  return {
    users,
    usersByEmail,
    groups,
    members,
    shares,
    s3Keys,
    resources,
  };
}
