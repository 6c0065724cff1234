/**
 * IONOS Cloud API v6 User Management shapes, as the reference pages give them.
 * Only `src/targets/ionos/` and the simulator use these directly.
 */

/** Group privilege flags (ionos-facts.md). The REST page spells the first `createDatacenter`. */
export const IONOS_PRIVILEGES = [
  "createDataCenter",
  "createSnapshot",
  "reserveIp",
  "accessActivityLog",
  "createPcc",
  "s3Privilege",
  "createBackupUnit",
  "createInternetAccess",
  "createK8sCluster",
  "createFlowLog",
  "accessAndManageMonitoring",
  "accessAndManageCertificates",
  "manageDBaaS",
  "accessAndManageDns",
  "manageRegistry",
  "manageDataplatform",
  "accessAndManageLogging",
  "accessAndManageCdn",
  "accessAndManageVpn",
  "accessAndManageApiGateway",
  "accessAndManageKaas",
  "accessAndManageNetworkFileStorage",
  "accessAndManageAiModelHub",
  "accessAndManageIamResources",
  "createNetworkSecurityGroups",
] as const;
export type IonosPrivilege = typeof IONOS_PRIVILEGES[number];

export interface IonosUserProperties {
  firstname: string;
  lastname: string;
  email: string;
  administrator: boolean;
  forceSecAuth: boolean;
  secAuthActive: boolean;
  active: boolean;
}

export interface IonosUser {
  id: string;
  type: "user";
  href?: string;
  metadata?: Record<string, unknown>;
  properties: IonosUserProperties & { s3CanonicalUserId?: string };
}

/** What we send to create a user: `secAuthActive` cannot be sent on create. */
export type IonosUserCreate = Omit<IonosUserProperties, "secAuthActive"> & { password: string };

export type IonosGroupProperties = { name: string } & Record<IonosPrivilege, boolean>;

export interface IonosGroup {
  id: string;
  type: "group";
  href?: string;
  properties: IonosGroupProperties;
}

export interface IonosCollection<T> {
  id?: string;
  type: "collection";
  href?: string;
  items: T[];
  offset?: number;
  limit?: number;
  _links?: { prev?: string; self?: string; next?: string };
}

export type IonosRequestState = "QUEUED" | "RUNNING" | "DONE" | "FAILED";

export interface IonosRequestStatus {
  id: string;
  type: "request-status";
  href: string;
  metadata: {
    status: IonosRequestState;
    message?: string;
    etag?: string;
    targets?: { target: { id: string; type: string; href?: string }; status: IonosRequestState }[];
  };
}

/** The IONOS error body. */
export interface IonosErrorBody {
  httpStatus: number;
  messages: { errorCode: string; message: string }[];
}
