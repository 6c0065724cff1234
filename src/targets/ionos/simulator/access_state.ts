/**
 * The simulated contract's shareable resources, group shares and users' S3 keys, beside
 * {@linkcode SimState}. Shares live as long as their group and keys as long as their user: the
 * owner's existence is checked on every read, so a deleted group's shares are gone and come
 * back with it only when a FAILED delete restores it (as IONOS does not apply a failed request).
 */
import { IonosApiError } from "./errors.ts";
import type { Random } from "../../simulator/random.ts";
import type { SimState } from "./state.ts";

/** Resource types `GET /um/resources/{type}` knows (v6 REST reference). */
export const RESOURCE_TYPES = [
  "datacenter",
  "snapshot",
  "image",
  "ipblock",
  "pcc",
  "backupunit",
  "k8s",
] as const;
export type ResourceType = typeof RESOURCE_TYPES[number];

/** A shareable resource as the simulator keeps it. */
export interface SimResource {
  id: string;
  resourceType: ResourceType;
  name: string;
  createdDate: string;
}

/** A group's share of one resource. */
export interface SimShare {
  resourceId: string;
  editPrivilege: boolean;
  sharePrivilege: boolean;
}

/** An S3 key; the secret is generated and shown as IONOS shows it. */
export interface SimS3Key {
  id: string;
  secretKey: string;
  active: boolean;
  createdDate: string;
}

/** Resources, shares and S3 keys of one simulated contract. */
export class SimAccess {
  #resources = new Map<string, SimResource>();
  /** groupId -> resourceId -> share. */
  #shares = new Map<string, Map<string, SimShare>>();
  /** userId -> keyId -> key. */
  #keys = new Map<string, Map<string, SimS3Key>>();

  constructor(private readonly state: SimState, private readonly rand: Random) {}

  /** Adds a shareable resource (as if a datacenter or snapshot were made in the console). */
  addResource(
    resourceType: ResourceType,
    name: string,
    id: string = this.rand.uuid(),
  ): SimResource {
    const r = { id, resourceType, name, createdDate: new Date().toISOString() };
    this.#resources.set(id, r);
    return { ...r };
  }

  /** Removes a resource; its shares go with it. */
  removeResource(id: string): void {
    this.#resources.delete(id);
    for (const shares of this.#shares.values()) shares.delete(id);
  }

  /** All resources, optionally of one type, in creation order. */
  resources(resourceType?: string): SimResource[] {
    return [...this.#resources.values()].filter((r) =>
      resourceType === undefined || r.resourceType === resourceType
    ).map((r) => ({ ...r }));
  }

  /** One resource, or undefined. */
  resource(id: string): SimResource | undefined {
    const r = this.#resources.get(id);
    return r && { ...r };
  }

  /**
   * The group's shares (copies).
   * @throws {IonosApiError} 404 if the group does not exist.
   */
  shares(groupId: string): SimShare[] {
    this.#group(groupId);
    return [...(this.#shares.get(groupId)?.values() ?? [])].map((s) => ({ ...s }));
  }

  /**
   * One share.
   * @throws {IonosApiError} 404 if the group does not exist or has no share of the resource.
   */
  share(groupId: string, resourceId: string): SimShare {
    this.#group(groupId);
    const s = this.#shares.get(groupId)?.get(resourceId);
    if (!s) {
      throw new IonosApiError(
        404,
        `Resource does not exist: share of ${resourceId} in group ${groupId}`,
      );
    }
    return { ...s };
  }

  /**
   * Shares a resource with a group.
   * @throws {IonosApiError} 404 if the group or the resource is missing, 422 if already shared.
   */
  addShare(
    groupId: string,
    resourceId: string,
    flags: Partial<Omit<SimShare, "resourceId">>,
  ): SimShare {
    this.#group(groupId);
    if (!this.#resources.has(resourceId)) {
      throw new IonosApiError(404, `Resource does not exist: resource ${resourceId}`);
    }
    const shares = this.#shares.get(groupId) ?? new Map<string, SimShare>();
    if (shares.has(resourceId)) {
      throw new IonosApiError(
        422,
        `Resource ${resourceId} is already shared with group ${groupId}`,
      );
    }
    const share = {
      resourceId,
      editPrivilege: flags.editPrivilege ?? false,
      sharePrivilege: flags.sharePrivilege ?? false,
    };
    shares.set(resourceId, share);
    this.#shares.set(groupId, shares);
    return { ...share };
  }

  /**
   * Changes a share's flags (those given).
   * @throws {IonosApiError} 404 if the group or the share is missing.
   */
  updateShare(
    groupId: string,
    resourceId: string,
    flags: Partial<Omit<SimShare, "resourceId">>,
  ): SimShare {
    this.share(groupId, resourceId);
    const s = this.#shares.get(groupId)!.get(resourceId)!;
    if (flags.editPrivilege !== undefined) s.editPrivilege = flags.editPrivilege;
    if (flags.sharePrivilege !== undefined) s.sharePrivilege = flags.sharePrivilege;
    return { ...s };
  }

  /**
   * Removes a share.
   * @throws {IonosApiError} 404 if the group or the share is missing.
   */
  removeShare(groupId: string, resourceId: string): void {
    this.share(groupId, resourceId);
    this.#shares.get(groupId)!.delete(resourceId);
  }

  /**
   * The user's S3 keys (copies, with their secrets).
   * @throws {IonosApiError} 404 if the user does not exist.
   */
  s3Keys(userId: string): SimS3Key[] {
    this.#user(userId);
    return [...(this.#keys.get(userId)?.values() ?? [])].map((k) => ({ ...k }));
  }

  /**
   * One key.
   * @throws {IonosApiError} 404 if the user or the key is missing.
   */
  s3Key(userId: string, keyId: string): SimS3Key {
    this.#user(userId);
    const k = this.#keys.get(userId)?.get(keyId);
    if (!k) {
      throw new IonosApiError(404, `Resource does not exist: S3 key ${keyId} of user ${userId}`);
    }
    return { ...k };
  }

  /**
   * Creates an active S3 key for a user (as `POST /um/users/{id}/s3keys` does).
   * @throws {IonosApiError} 404 if the user does not exist.
   */
  addS3Key(userId: string, active = true): SimS3Key {
    this.#user(userId);
    const key: SimS3Key = {
      id: this.rand.hex(20).toUpperCase(),
      secretKey: this.rand.hex(40),
      active,
      createdDate: new Date().toISOString(),
    };
    const keys = this.#keys.get(userId) ?? new Map<string, SimS3Key>();
    keys.set(key.id, key);
    this.#keys.set(userId, keys);
    return { ...key };
  }

  /** Puts a deleted key back (a FAILED delete is not applied). */
  restoreS3Key(userId: string, key: SimS3Key): void {
    const keys = this.#keys.get(userId) ?? new Map<string, SimS3Key>();
    keys.set(key.id, { ...key });
    this.#keys.set(userId, keys);
  }

  /**
   * Turns a key on or off.
   * @throws {IonosApiError} 404 if the user or the key is missing.
   */
  setS3KeyActive(userId: string, keyId: string, active: boolean): SimS3Key {
    this.s3Key(userId, keyId);
    const k = this.#keys.get(userId)!.get(keyId)!;
    k.active = active;
    return { ...k };
  }

  /**
   * Deletes a key.
   * @throws {IonosApiError} 404 if the user or the key is missing.
   */
  deleteS3Key(userId: string, keyId: string): void {
    this.s3Key(userId, keyId);
    this.#keys.get(userId)!.delete(keyId);
  }

  /** Forgets everything. */
  clear(): void {
    this.#resources.clear();
    this.#shares.clear();
    this.#keys.clear();
  }

  #group(id: string): void {
    if (!this.state.group(id)) throw new IonosApiError(404, `Resource does not exist: group ${id}`);
  }

  #user(id: string): void {
    if (!this.state.user(id)) throw new IonosApiError(404, `Resource does not exist: user ${id}`);
  }
}
