/**
 * The simulated contract: users, groups and memberships. The HTTP routes and tests (acting as
 * a human in the IONOS console, "behind our back") change it through the same methods, so the
 * invariants (unique email, membership rules) hold whichever way a change arrives.
 */
import {
  IONOS_PRIVILEGES,
  type IonosGroup,
  type IonosGroupProperties,
  type IonosPrivilege,
  type IonosUser,
  type IonosUserProperties,
} from "../types.ts";
import { definedProps } from "../../../defined_props.ts";
import { IonosApiError } from "./errors.ts";
import type { Random } from "../../simulator/random.ts";

/** A user as the simulator keeps it. There is no password field: it is checked, then dropped. */
export type SimUser = IonosUser & { metadata: Record<string, string> };

/** What creating a user needs; other properties default like IONOS (active, no admin, no 2FA). */
export type UserInput =
  & Pick<IonosUserProperties, "firstname" | "lastname" | "email">
  & Partial<IonosUserProperties>;

/** What creating a group needs; missing privileges are false. */
export type GroupInput = { name: string } & Partial<Record<IonosPrivilege, boolean>>;

/** In-memory users, groups and memberships of one simulated contract. */
export class SimState {
  #users = new Map<string, SimUser>();
  #groups = new Map<string, IonosGroup>();
  /** groupId -> member userIds, in the order they were added. */
  #members = new Map<string, Set<string>>();
  /** lower-cased email -> userId, so lookups stay O(1) on large contracts. */
  #emails = new Map<string, string>();

  /**
   * @param rand Source for ids and etags (seeded for reproducible tests).
   * @param actor Shown as `createdBy` / `lastModifiedBy`.
   */
  constructor(private readonly rand: Random, private readonly actor = "sim@example.com") {}

  /** All users (copies), in creation order. */
  users(): SimUser[] {
    return [...this.#users.values()].map((u) => structuredClone(u));
  }

  /** One user (a copy), or undefined. */
  user(id: string): SimUser | undefined {
    const u = this.#users.get(id);
    return u && structuredClone(u);
  }

  /** The user with this email, compared case-insensitively as IONOS does. */
  userByEmail(email: string): SimUser | undefined {
    const id = this.#emails.get(email.toLowerCase());
    return id === undefined ? undefined : this.user(id);
  }

  /** All groups (copies), in creation order. */
  groups(): IonosGroup[] {
    return [...this.#groups.values()].map((g) => structuredClone(g));
  }

  /** One group (a copy), or undefined. */
  group(id: string): IonosGroup | undefined {
    const g = this.#groups.get(id);
    return g && structuredClone(g);
  }

  /** Member user ids of a group (empty if the group does not exist). */
  members(groupId: string): string[] {
    return [...(this.#members.get(groupId) ?? [])];
  }

  /** Ids of the groups a user belongs to. */
  userGroups(userId: string): string[] {
    return [...this.#members].filter(([, m]) => m.has(userId)).map(([g]) => g);
  }

  /**
   * Creates a user.
   * @throws {IonosApiError} 422 if the email is taken (case-insensitive).
   */
  addUser(input: UserInput): SimUser {
    this.#assertEmailFree(input.email);
    const now = new Date().toISOString();
    const id = this.rand.uuid();
    const user: SimUser = {
      id,
      type: "user",
      metadata: {
        etag: this.rand.hex(16),
        createdDate: now,
        createdBy: this.actor,
        createdByUserId: "00000000-0000-4000-8000-000000000000",
        lastModifiedDate: now,
        lastModifiedBy: this.actor,
        lastModifiedByUserId: "00000000-0000-4000-8000-000000000000",
      },
      properties: {
        firstname: input.firstname,
        lastname: input.lastname,
        email: input.email,
        administrator: input.administrator ?? false,
        forceSecAuth: input.forceSecAuth ?? false,
        secAuthActive: input.secAuthActive ?? false,
        active: input.active ?? true,
        s3CanonicalUserId: this.rand.hex(32),
      },
    };
    this.#users.set(id, user);
    this.#emails.set(input.email.toLowerCase(), id);
    return structuredClone(user);
  }

  /**
   * Changes some properties of a user (the routes pass the full set, as PUT does).
   * @throws {IonosApiError} 404 if missing, 422 if the new email belongs to someone else.
   */
  updateUser(id: string, patch: Patch<IonosUserProperties>): SimUser {
    const user = this.#user(id);
    if (patch.email !== undefined) {
      this.#assertEmailFree(patch.email, id);
      this.#emails.delete(user.properties.email.toLowerCase());
      this.#emails.set(patch.email.toLowerCase(), id);
    }
    Object.assign(user.properties, definedProps(patch));
    this.#touch(user.metadata);
    return structuredClone(user);
  }

  /**
   * Deletes a user and its memberships.
   * @throws {IonosApiError} 404 if missing.
   */
  deleteUser(id: string): void {
    const user = this.#user(id);
    this.#users.delete(id);
    this.#emails.delete(user.properties.email.toLowerCase());
    for (const m of this.#members.values()) m.delete(id);
  }

  /**
   * Puts a deleted user back with its id and memberships (a FAILED delete is not applied).
   * @throws {IonosApiError} 422 if the email was taken since.
   */
  restoreUser(user: SimUser, groupIds: string[]): void {
    if (this.#users.has(user.id)) return;
    this.#assertEmailFree(user.properties.email);
    this.#users.set(user.id, structuredClone(user));
    this.#emails.set(user.properties.email.toLowerCase(), user.id);
    for (const g of groupIds) this.#members.get(g)?.add(user.id);
  }

  /** Puts a deleted group back with its id and the members that still exist. */
  restoreGroup(group: IonosGroup, memberIds: string[]): void {
    if (this.#groups.has(group.id)) return;
    this.#groups.set(group.id, structuredClone(group));
    this.#members.set(group.id, new Set(memberIds.filter((u) => this.#users.has(u))));
  }

  /** Creates a group; names need not be unique (as on IONOS). */
  addGroup(input: GroupInput): IonosGroup {
    const id = this.rand.uuid();
    const properties = { name: input.name } as IonosGroupProperties;
    for (const p of IONOS_PRIVILEGES) properties[p] = input[p] ?? false;
    const group: IonosGroup = { id, type: "group", properties };
    this.#groups.set(id, group);
    this.#members.set(id, new Set());
    return structuredClone(group);
  }

  /**
   * Changes some properties of a group.
   * @throws {IonosApiError} 404 if missing.
   */
  updateGroup(id: string, patch: Patch<IonosGroupProperties>): IonosGroup {
    const group = this.#group(id);
    Object.assign(group.properties, definedProps(patch));
    return structuredClone(group);
  }

  /**
   * Deletes a group (its memberships go with it).
   * @throws {IonosApiError} 404 if missing.
   */
  deleteGroup(id: string): void {
    this.#group(id);
    this.#groups.delete(id);
    this.#members.delete(id);
  }

  /**
   * Adds a user to a group.
   * @throws {IonosApiError} 404 if either is missing, 422 if already a member.
   */
  addMember(groupId: string, userId: string): void {
    this.#group(groupId);
    this.#user(userId);
    const members = this.#members.get(groupId)!;
    if (members.has(userId)) {
      throw new IonosApiError(422, `User ${userId} is already a member of group ${groupId}`);
    }
    members.add(userId);
  }

  /**
   * Removes a user from a group.
   * @throws {IonosApiError} 404 if the group is missing or the user is not a member.
   */
  removeMember(groupId: string, userId: string): void {
    this.#group(groupId);
    if (!this.#members.get(groupId)!.delete(userId)) {
      throw new IonosApiError(404, `User ${userId} is not a member of group ${groupId}`);
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.#users.clear();
    this.#groups.clear();
    this.#members.clear();
    this.#emails.clear();
  }

  #user(id: string): SimUser {
    const u = this.#users.get(id);
    if (!u) throw new IonosApiError(404, `Resource does not exist: user ${id}`);
    return u;
  }

  #group(id: string): IonosGroup {
    const g = this.#groups.get(id);
    if (!g) throw new IonosApiError(404, `Resource does not exist: group ${id}`);
    return g;
  }

  #assertEmailFree(email: string, exceptId?: string): void {
    const other = this.#emails.get(email.toLowerCase());
    if (other !== undefined && other !== exceptId) {
      throw new IonosApiError(422, `The email address '${email}' is already in use`);
    }
  }

  #touch(metadata: Record<string, string>): void {
    metadata.etag = this.rand.hex(16);
    metadata.lastModifiedDate = new Date().toISOString();
    metadata.lastModifiedBy = this.actor;
  }
}

/** Some properties to change; an `undefined` one is left as it is. */
export type Patch<T> = { [K in keyof T]?: T[K] | undefined };
