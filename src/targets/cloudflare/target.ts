/**
 * Cloudflare behind the target seam: account members (invited, no deactivation, no admin flag)
 * and user groups with policies (`TARGET_CAPABILITIES.cloudflare`).
 */
import { TargetUnsupportedError } from "../errors.ts";
import { type Target, TARGET_CAPABILITIES, type TargetUser } from "../target.ts";
import type { CloudflareMember, CloudflarePolicy, CloudflareUserGroup } from "./api.ts";
import type { CloudflareClient } from "./client.ts";

/** A member in the target-neutral shape. */
export function cloudflareTargetUser(m: CloudflareMember): TargetUser {
  return {
    id: m.id,
    email: m.email,
    firstName: m.firstName || undefined,
    lastName: m.lastName || undefined,
    enabled: true,
    admin: false,
    status: m.status === "pending" ? "pending" : "active",
    roleIds: m.roleIds,
    owner: false,
  };
}

const group = (g: CloudflareUserGroup) => ({ id: g.id, name: g.name, grants: g.policies });

/** The seam's view of a Cloudflare client; `memberRoles` go with every invitation. */
export function cloudflareTarget(
  client: CloudflareClient,
  memberRoles: readonly string[],
): Target<CloudflarePolicy> {
  return {
    name: "cloudflare",
    capabilities: TARGET_CAPABILITIES.cloudflare,
    users: {
      findUserByEmail: async (email) => {
        const m = await client.findMemberByEmail(email);
        return m && cloudflareTargetUser(m);
      },
      getUser: async (id) => {
        const m = await client.getMember(id);
        return m && cloudflareTargetUser(m);
      },
      createUser: async (input) =>
        cloudflareTargetUser(
          await client.inviteMember(
            input.email,
            input.roleIds.length ? input.roleIds : memberRoles,
          ),
        ),
      // Names and flags belong to the person's own Cloudflare user, not to the membership.
      updateUser: () =>
        Promise.reject(new TargetUnsupportedError("cloudflare", "update a member's user")),
      deactivateUser: () =>
        Promise.reject(new TargetUnsupportedError("cloudflare", "deactivate a member")),
      deleteUser: (id) => client.removeMember(id),
      listUsers: async function* () {
        for await (const m of client.listMembers()) yield cloudflareTargetUser(m);
      },
    },
    groups: {
      listGroups: async function* () {
        for await (const g of client.listUserGroups()) yield group(g);
      },
      findGroupByName: async (name) => {
        const g = await client.findUserGroupByName(name);
        return g && group(g);
      },
      getGroup: async (id) => {
        const g = await client.getUserGroup(id);
        return g && group(g);
      },
      createGroup: async (input) =>
        group(await client.createUserGroup({ name: input.name, policies: input.grants })),
      updateGroup: async (id, input) =>
        group(await client.updateUserGroup(id, { name: input.name, policies: input.grants })),
      deleteGroup: (id) => client.deleteUserGroup(id),
      listMembers: async (groupId) => (await client.listGroupMembers(groupId)).map((m) => m.id),
      addMembers: (groupId, ids) => client.addGroupMembers(groupId, ids),
      replaceMembers: (groupId, ids) => client.replaceGroupMembers(groupId, ids),
      removeMember: (groupId, id) => client.removeGroupMember(groupId, id),
    },
  };
}
