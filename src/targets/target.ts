/**
 * The seam between the sync and a target cloud: what any target can do with users, and with
 * groups and memberships where the cloud has them. Each cloud has its own folder beside this
 * file (ionos/, contabo/, cloudflare/): its client, whose errors carry `retryable` and
 * `retryAfterMs` for the one failure policy (workers/failure_policy.ts; IONOS's in
 * ionos/errors.ts, the others' in errors.ts), its mapping section, its pure
 * decisions (wanted state -> what the target should hold, and the changes that get it there;
 * workers and reconcile both use them), its simulator, and its adapter to these types
 * (`<name>/target.ts`). Shared by all: errors.ts, http/ (transport, retry timing) and
 * rate_limiter.ts. Code that drives any target depends on these types only, and asks
 * `capabilities` before it uses anything optional (test/targets/contract.test.ts holds every
 * adapter to the same contract).
 *
 * The IONOS sync workers drive `IonosClient` directly rather than this seam: its writes take
 * seconds to complete, and the workers defer them instead of waiting (see ionos/target.ts).
 */

/** Every target the mapping's `targets:` list may name. */
export const TARGET_NAMES = ["ionos", "contabo", "cloudflare"] as const;
export type TargetName = typeof TARGET_NAMES[number];

/** What a cloud can express. Callers read these instead of testing for a target's name. */
export interface TargetCapabilities {
  /** Named groups with members (IONOS groups, Cloudflare user groups). */
  groups: boolean;
  /** Roles set on the user itself, mapped from IdP groups (Contabo). */
  userRoles: boolean;
  /** A user can be switched off without deleting it. */
  deactivate: boolean;
  /** A per-user administrator flag. */
  adminFlag: boolean;
  /** A new user exists only as a pending invitation until the person accepts it. */
  invitation: boolean;
  /** A group's whole member list can be set in one call. */
  replaceMembers: boolean;
}

/** What each target can express; the README's "Targets" section says the same in words. */
export const TARGET_CAPABILITIES: Readonly<Record<TargetName, TargetCapabilities>> = {
  ionos: {
    groups: true,
    userRoles: false,
    deactivate: true,
    adminFlag: true,
    invitation: false,
    replaceMembers: false,
  },
  contabo: {
    groups: false,
    userRoles: true,
    deactivate: true,
    adminFlag: true,
    invitation: false,
    replaceMembers: false,
  },
  cloudflare: {
    groups: true,
    userRoles: false,
    deactivate: false,
    adminFlag: false,
    invitation: true,
    replaceMembers: true,
  },
};

/** A user (or account member) as a target holds it, in the target-neutral shape. */
export interface TargetUser {
  /** The target's own id (IONOS user id, Contabo userId, Cloudflare member id). */
  id: string;
  email: string;
  firstName?: string | undefined;
  lastName?: string | undefined;
  /** Can log in (Cloudflare: always true while a member). */
  enabled: boolean;
  admin: boolean;
  /** `pending` until an invitation is accepted (Cloudflare); otherwise `active`. */
  status: "active" | "pending";
  /** Role ids set on the user (Contabo roles, Cloudflare member roles). */
  roleIds: readonly string[];
  /** The account's owner: never changed by the sync, whatever the IdP says. */
  owner: boolean;
}

/** What to create. Fields a target cannot express are ignored by it (see capabilities). */
export interface TargetUserInput {
  email: string;
  firstName: string;
  lastName: string;
  enabled: boolean;
  admin: boolean;
  roleIds: readonly string[];
}

/** A partial update: only the fields set are written. */
export type TargetUserPatch = Partial<TargetUserInput>;

/** Users: every target has these. */
export interface TargetUsers {
  /** Compared case-insensitively; `undefined` when no user has it. */
  findUserByEmail(email: string): Promise<TargetUser | undefined>;
  /** `undefined` when the id is unknown (404). */
  getUser(id: string): Promise<TargetUser | undefined>;
  createUser(input: TargetUserInput): Promise<TargetUser>;
  updateUser(id: string, patch: TargetUserPatch): Promise<TargetUser>;
  /**
   * Switches the user off without deleting it.
   * @throws {TargetUnsupportedError} where `capabilities.deactivate` is false
   */
  deactivateUser(id: string): Promise<TargetUser>;
  /** Deletes the user; `false` when it was already gone (a retry after a lost answer). */
  deleteUser(id: string): Promise<boolean>;
  /** Every user, page by page. */
  listUsers(): AsyncIterable<TargetUser>;
}

/** A group as a target holds it. `grants` is the cloud's own permission shape. */
export interface TargetGroup<Grant = unknown> {
  id: string;
  name: string;
  grants: readonly Grant[];
}

/** What to create or set on a group. */
export interface TargetGroupInput<Grant = unknown> {
  name: string;
  grants: readonly Grant[];
}

/** Groups and their members, where `capabilities.groups` is true. Member ids are user ids. */
export interface TargetGroups<Grant = unknown> {
  listGroups(): AsyncIterable<TargetGroup<Grant>>;
  /** Exact name match; `undefined` when none. */
  findGroupByName(name: string): Promise<TargetGroup<Grant> | undefined>;
  getGroup(id: string): Promise<TargetGroup<Grant> | undefined>;
  createGroup(input: TargetGroupInput<Grant>): Promise<TargetGroup<Grant>>;
  updateGroup(id: string, input: TargetGroupInput<Grant>): Promise<TargetGroup<Grant>>;
  /** `false` when it was already gone. */
  deleteGroup(id: string): Promise<boolean>;
  listMembers(groupId: string): Promise<string[]>;
  addMembers(groupId: string, userIds: readonly string[]): Promise<void>;
  /**
   * Sets the whole member list at once.
   * @throws {TargetUnsupportedError} where `capabilities.replaceMembers` is false
   */
  replaceMembers(groupId: string, userIds: readonly string[]): Promise<void>;
  /** `false` when the user was not a member. */
  removeMember(groupId: string, userId: string): Promise<boolean>;
}

/** One target cloud behind the seam. */
export interface Target<Grant = unknown> {
  readonly name: TargetName;
  readonly capabilities: TargetCapabilities;
  readonly users: TargetUsers;
  /** Present exactly when `capabilities.groups` is true. */
  readonly groups?: TargetGroups<Grant>;
}
