/**
 * IONOS shapes for resource shares, shareable resources and S3 keys (v6 REST reference:
 * /um/groups/{groupId}/shares, /um/resources; v5 reference: /um/users/{userId}/s3keys, same
 * paths in v6). Only `src/targets/ionos/` and the simulator use these directly.
 */

/** A group's share of one resource; its `id` is the resource's id. */
export interface IonosShare {
  id: string;
  type: "resource";
  href?: string;
  properties: { editPrivilege: boolean; sharePrivilege: boolean };
}

/**
 * A resource that can be shared. The resource type (datacenter, snapshot, image, ipblock, pcc,
 * backupunit, k8s) is the last-but-one segment of its `href` (`/um/resources/{type}/{id}`).
 */
export interface IonosResource {
  id: string;
  type: string;
  href?: string;
  properties?: { name?: string; secAuthProtection?: boolean };
}

/**
 * An S3 key as the client hands it out: id (the access key id) and whether it is active. The
 * secret (`properties.secretKey` in IONOS answers, sdk-go model_s3_key_properties.go) is dropped
 * on reading and never kept, logged or shown.
 */
export interface IonosS3Key {
  id: string;
  active: boolean;
}
