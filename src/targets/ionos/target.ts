/**
 * IONOS behind the target seam: users with an administrator flag that can be deactivated, and
 * groups whose grants are privilege flags (`TARGET_CAPABILITIES.ionos`). Code that drives any
 * target (contract tests, tools, fan-out) can drive IONOS through it.
 *
 * Why the IONOS sync workers do not use it: every IONOS write is answered 202 and runs as a
 * request that takes seconds to reach DONE (ionos-facts.md, "Requests"; the simulator's
 * `realistic` profile draws a median of 3 s with a tail to 15 s), and a dependent write (a
 * member add after the user's create) must wait for it. A seam call answers only when its
 * writes are done, so a worker driving IONOS through it would hold its slot for seconds per
 * write. The IONOS workers therefore use the client's deferring API directly
 * (`IonosClient.deferring()`): a write returns once IONOS accepted it, its request goes into
 * the job's pending list, the job gives its slot back, and it resumes when the one request
 * tracker per process (one listing per interval covers every request in flight) says DONE, or
 * plans again after FAILED (workers/request_steps.ts). The decisions are shared all the same:
 * workers and reconcile both read ./decisions.ts and ./access_decisions.ts. This adapter wraps
 * the waiting client: each write here waits for DONE, and a FAILED request is sent again inside
 * the call (`failedRequestAttempts`).
 */
import { TargetUnsupportedError } from "../errors.ts";
import {
  type Target,
  TARGET_CAPABILITIES,
  type TargetGroup,
  type TargetGroupInput,
  type TargetUser,
  type TargetUserPatch,
} from "../target.ts";
import type { IonosClient } from "./client.ts";
import { IonosApiError } from "./errors.ts";
import {
  IONOS_PRIVILEGES,
  type IonosGroup,
  type IonosGroupProperties,
  type IonosPrivilege,
  type IonosUser,
  type IonosUserProperties,
} from "./types.ts";

/** IONOS behind the seam; a group's grants are the privileges it has switched on. */
export type IonosTarget = Target<IonosPrivilege>;

/** Options for {@linkcode ionosTarget}. */
export interface IonosTargetOptions {
  /**
   * A fresh password for each new user: IONOS asks for one on create (ionos-facts.md, "Users"),
   * though people sign in through federation. Pass a strong random one
   * (`generatePassword` in workers/password.ts); it is sent once and never kept.
   */
  newPassword: () => string;
  /**
   * Require two-factor login (`forceSecAuth`) on users created or updated here. Never switches
   * off one that is on. @default false
   */
  forceSecAuth?: boolean;
}

/** An IONOS user in the target-neutral shape. */
export function ionosTargetUser(user: IonosUser): TargetUser {
  const p = user.properties;
  return {
    id: user.id,
    email: p.email,
    firstName: p.firstname,
    lastName: p.lastname,
    enabled: p.active,
    admin: p.administrator,
    status: "active",
    // IONOS users have no roles of their own: what they may do comes from their groups.
    roleIds: [],
    // The user resource has no owner flag (ionos-facts.md, "Users"): `protectedEmails` in the
    // mapping keeps such accounts out of the sync's reach.
    owner: false,
  };
}

/** An IONOS group in the target-neutral shape: `grants` lists its privileges switched on. */
export function ionosTargetGroup(group: IonosGroup): TargetGroup<IonosPrivilege> {
  return {
    id: group.id,
    name: group.properties.name,
    grants: IONOS_PRIVILEGES.filter((p) => group.properties[p] === true),
  };
}

/** Every privilege flag set, true exactly for `grants`: a group PUT replaces them all. */
function groupProperties(input: TargetGroupInput<IonosPrivilege>): IonosGroupProperties {
  const props = { name: input.name } as IonosGroupProperties;
  for (const p of IONOS_PRIVILEGES) props[p] = input.grants.includes(p);
  return props;
}

/** The seam's patch in IONOS's property names; only the fields set. */
function userPatch(patch: TargetUserPatch): Partial<IonosUserProperties> {
  const out: Partial<IonosUserProperties> = {};
  if (patch.email !== undefined) out.email = patch.email;
  if (patch.firstName !== undefined) out.firstname = patch.firstName;
  if (patch.lastName !== undefined) out.lastname = patch.lastName;
  if (patch.enabled !== undefined) out.active = patch.enabled;
  if (patch.admin !== undefined) out.administrator = patch.admin;
  return out;
}

/**
 * The seam's view of an IONOS client (a waiting one, not a `deferring()` view: see the module
 * comment). Role ids are ignored (`capabilities.userRoles` is false).
 *
 * @example
 * ```ts
 * const ionos = ionosTarget(new IonosClient({ baseUrl, auth: { token } }), {
 *   newPassword: generatePassword,
 * });
 * const user = await ionos.users.findUserByEmail("ada@example.com");
 * ```
 */
export function ionosTarget(client: IonosClient, options: IonosTargetOptions): IonosTarget {
  const { newPassword, forceSecAuth = false } = options;

  /**
   * IONOS has no PATCH: read the user and send the full property set, as Terraform and ionosctl
   * do (ionos-facts.md, "Users").
   * @throws {IonosApiError} 404 when the user does not exist
   */
  async function update(id: string, patch: Partial<IonosUserProperties>): Promise<TargetUser> {
    const now = await client.getUser(id);
    if (!now) {
      throw new IonosApiError({
        status: 404,
        ionosMessage: "user not found",
        method: "GET",
        route: "/um/users/{id}",
      });
    }
    const props: IonosUserProperties = {
      ...now.properties,
      ...patch,
      forceSecAuth: now.properties.forceSecAuth || forceSecAuth,
    };
    return ionosTargetUser(await client.updateUser(id, props));
  }

  const groupsOf = async function* () {
    for await (const g of client.iterateGroups()) yield ionosTargetGroup(g);
  };

  return {
    name: "ionos",
    capabilities: TARGET_CAPABILITIES.ionos,
    users: {
      findUserByEmail: async (email) => {
        const user = await client.findUserByEmail(email);
        return user && ionosTargetUser(user);
      },
      getUser: async (id) => {
        const user = await client.getUser(id);
        return user && ionosTargetUser(user);
      },
      createUser: async (input) =>
        ionosTargetUser(
          await client.createUser({
            firstname: input.firstName,
            lastname: input.lastName,
            email: input.email,
            administrator: input.admin,
            active: input.enabled,
            forceSecAuth,
            password: newPassword(),
          }),
        ),
      updateUser: (id, patch) => update(id, userPatch(patch)),
      deactivateUser: (id) => update(id, { active: false }),
      deleteUser: (id) => client.deleteUser(id),
      listUsers: async function* () {
        for await (const user of client.iterateUsers()) yield ionosTargetUser(user);
      },
    },
    groups: {
      listGroups: groupsOf,
      // Group names are not known to be unique in IONOS (ionos-facts.md, "Groups"): the first
      // one listed with the name is returned.
      findGroupByName: async (name) => {
        for await (const g of groupsOf()) if (g.name === name) return g;
        return undefined;
      },
      getGroup: async (id) => {
        const g = await client.getGroup(id);
        return g && ionosTargetGroup(g);
      },
      createGroup: async (input) =>
        ionosTargetGroup(await client.createGroup(groupProperties(input))),
      updateGroup: async (id, input) =>
        ionosTargetGroup(await client.updateGroup(id, groupProperties(input))),
      deleteGroup: (id) => client.deleteGroup(id),
      listMembers: async (groupId) => (await client.listGroupMembers(groupId)).map((u) => u.id),
      // One POST per member; IONOS answers 422 to a user who is already one, so those are
      // skipped and a repeated call adds only the missing ones.
      addMembers: async (groupId, userIds) => {
        const members = new Set((await client.listGroupMembers(groupId)).map((u) => u.id));
        for (const id of new Set(userIds)) {
          if (!members.has(id)) await client.addGroupMember(groupId, id);
        }
      },
      replaceMembers: () =>
        Promise.reject(new TargetUnsupportedError("ionos", "replace a group's members at once")),
      removeMember: (groupId, userId) => client.removeGroupMember(groupId, userId),
    },
  };
}
