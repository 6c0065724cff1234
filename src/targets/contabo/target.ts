/** Contabo behind the target seam: users with roles, no groups (`TARGET_CAPABILITIES.contabo`). */
import {
  type Target,
  TARGET_CAPABILITIES,
  type TargetUser,
  type TargetUserInput,
} from "../target.ts";
import type { ContaboUser, ContaboUserFields } from "./api.ts";
import type { ContaboClient } from "./client.ts";

/** A Contabo user in the target-neutral shape. */
export function contaboTargetUser(user: ContaboUser): TargetUser {
  return {
    id: user.userId,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    enabled: user.enabled,
    admin: user.admin,
    status: "active",
    roleIds: user.roles.map(String),
    owner: user.owner,
  };
}

const roleNumbers = (ids: readonly string[]) =>
  [...new Set(ids.map((id) => Number(id)))].filter(Number.isInteger).sort((a, b) => a - b);

/**
 * The seam's view of a Contabo client. Fields the seam has no word for (`totp`,
 * `accessAllResources`, `locale`) take `defaults`; the Contabo decisions module sets them itself.
 */
export function contaboTarget(
  client: ContaboClient,
  defaults: Pick<ContaboUserFields, "totp" | "accessAllResources" | "locale"> = {
    totp: false,
    accessAllResources: false,
    locale: "en",
  },
): Target {
  return {
    name: "contabo",
    capabilities: TARGET_CAPABILITIES.contabo,
    users: {
      findUserByEmail: async (email) => {
        const user = await client.findUserByEmail(email);
        return user && contaboTargetUser(user);
      },
      getUser: async (id) => {
        const user = await client.getUser(id);
        return user && contaboTargetUser(user);
      },
      createUser: async (input: TargetUserInput) => {
        const { roleIds, ...fields } = input;
        return contaboTargetUser(
          await client.createUser({ ...defaults, ...fields, roles: roleNumbers(roleIds) }),
        );
      },
      updateUser: async (id, patch) => {
        const { roleIds, ...rest } = patch;
        return contaboTargetUser(
          await client.updateUser(id, {
            ...rest,
            ...(roleIds ? { roles: roleNumbers(roleIds) } : {}),
          }),
        );
      },
      deactivateUser: async (id) =>
        contaboTargetUser(await client.updateUser(id, { enabled: false })),
      deleteUser: (id) => client.deleteUser(id),
      listUsers: async function* () {
        for await (const user of client.listUsers()) yield contaboTargetUser(user);
      },
    },
  };
}
