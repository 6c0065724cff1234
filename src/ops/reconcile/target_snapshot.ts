/**
 * Reads a target's side for reconcile: its twin records from Redis, and what the cloud holds,
 * page by page through the target's own client (and so its own Redis-shared rate limiter, the
 * workers' budget): Contabo's users; Cloudflare's members, user groups, and the members of the
 * groups the sync manages or would adopt.
 */
import type { CloudflareClient } from "../../targets/cloudflare/client.ts";
import type { CloudflareMember, CloudflareUserGroup } from "../../targets/cloudflare/api.ts";
import type { ContaboClient } from "../../targets/contabo/client.ts";
import type { ContaboUser } from "../../targets/contabo/api.ts";
import { cloudflareGroupInScope } from "../../targets/cloudflare/decisions.ts";
import type { Mapping } from "../../config/mapping.ts";
import type { TargetLinks } from "../../targets/links.ts";
import type { CloudflareSnapshot } from "./cloudflare_plan.ts";
import type { ContaboSnapshot } from "./contabo_plan.ts";
import type { Progress, WantedSnapshot } from "./snapshot.ts";
import type { TargetTwins } from "./target_plan.ts";

/** The twins of every wanted entity, and everything the sync manages in this target. */
export async function readTargetTwins(
  links: TargetLinks,
  wanted: Pick<WantedSnapshot, "users" | "groups">,
): Promise<TargetTwins> {
  const [managedUsers, managedGroups] = await Promise.all([
    links.managed("user"),
    links.managed("group"),
  ]);
  // Managed ones whose IdP entity is gone are planned too (their removal).
  const userIds = [...new Set([...wanted.users.keys(), ...managedUsers.values()])];
  const groupIds = [...new Set([...wanted.groups.keys(), ...managedGroups.values()])];
  const [users, groups] = await Promise.all([
    links.twins("user", userIds),
    links.twins("group", groupIds),
  ]);
  return { users, groups, managedUsers, managedGroups };
}

/** Every Contabo user, page by page. */
export async function readContabo(
  client: ContaboClient,
  progress: Progress = () => {},
): Promise<ContaboSnapshot> {
  const users = new Map<string, ContaboUser>();
  for await (const u of client.listUsers()) {
    users.set(u.userId, u);
    if (users.size % 100 === 0) progress("Contabo users", users.size);
  }
  progress("Contabo users", users.size, users.size);
  return { users };
}

/**
 * Every Cloudflare member and user group, and the members of the groups the sync manages or
 * whose name an in-scope wanted group has (adoption candidates).
 */
export async function readCloudflare(
  client: CloudflareClient,
  mapping: Mapping,
  wanted: Pick<WantedSnapshot, "groups">,
  twins: Pick<TargetTwins, "managedGroups">,
  progress: Progress = () => {},
): Promise<CloudflareSnapshot> {
  const members = new Map<string, CloudflareMember>();
  for await (const m of client.listMembers()) {
    members.set(m.id, m);
    if (members.size % 50 === 0) progress("Cloudflare members", members.size);
  }
  progress("Cloudflare members", members.size, members.size);
  const groups = new Map<string, CloudflareUserGroup>();
  for await (const g of client.listUserGroups()) groups.set(g.id, g);
  progress("Cloudflare user groups", groups.size, groups.size);
  const names = new Set<string>();
  for (const g of wanted.groups.values()) {
    if (!g.deleted && cloudflareGroupInScope(mapping.cloudflare, g.displayName)) {
      names.add(g.displayName);
    }
  }
  const read = [...groups.values()].filter((g) =>
    twins.managedGroups.has(g.id) || names.has(g.name)
  );
  const groupMembers = new Map<string, string[]>();
  for (const [i, g] of read.entries()) {
    groupMembers.set(g.id, (await client.listGroupMembers(g.id)).map((m) => m.id));
    progress("Cloudflare group members", i + 1, read.length);
  }
  return { members, groups, groupMembers };
}
