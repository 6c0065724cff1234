/**
 * The Contabo users API as it is on the wire (`/work/shared/reference/contabo-users-api.txt`,
 * with the field list of the generated SDK models `CreateUserRequest` / `UserResponse` in
 * p-fruck/python-contabo `docs/`): zod schemas for what it answers, types for what we send.
 */
import { z } from "zod";

/** Route templates, for errors and metrics. */
export const CONTABO_ROUTES = {
  users: "/v1/users",
  user: "/v1/users/{userId}",
} as const;

/** A role as a user carries it. Contabo role ids are integers. */
export const ContaboRole = z.object({
  roleId: z.number().int(),
  name: z.string().optional(),
  admin: z.boolean().optional(),
  accessAllResources: z.boolean().optional(),
}).loose();

/** `UserResponse`. */
export const ContaboUserJson = z.object({
  tenantId: z.string().optional(),
  customerId: z.string().optional(),
  userId: z.string().min(1),
  firstName: z.string().optional().default(""),
  lastName: z.string().optional().default(""),
  email: z.string(),
  emailVerified: z.boolean().optional(),
  enabled: z.boolean(),
  totp: z.boolean().optional().default(false),
  locale: z.string().optional(),
  admin: z.boolean().optional().default(false),
  accessAllResources: z.boolean().optional().default(false),
  roles: z.array(ContaboRole).optional().default([]),
  owner: z.boolean().optional().default(false),
}).loose();
export type ContaboUserJson = z.infer<typeof ContaboUserJson>;

/** Create, get and update answer `{ data: [user], _links }`. */
export const ContaboUserEnvelope = z.object({
  data: z.array(ContaboUserJson).min(1),
}).loose();

/** The list answer: one page of users and where it is in the whole. */
export const ContaboUserPage = z.object({
  _pagination: z.object({
    size: z.number().int(),
    totalElements: z.number().int(),
    totalPages: z.number().int(),
    page: z.number().int(),
  }).loose(),
  data: z.array(ContaboUserJson),
}).loose();

/** Contabo's error body: `{ statusCode, message }` (message sometimes a list). */
export const ContaboErrorBody = z.object({
  statusCode: z.number().optional(),
  message: z.union([z.string(), z.array(z.string())]).optional(),
}).loose();

/** The user attributes the service writes. No password: Contabo mails the person instead. */
export interface ContaboUserFields {
  firstName: string;
  lastName: string;
  email: string;
  enabled: boolean;
  totp: boolean;
  admin: boolean;
  accessAllResources: boolean;
  locale: string;
  /** Sorted, de-duplicated. */
  roles: number[];
}

/** `POST /v1/users` body. */
export type ContaboCreateUserBody = ContaboUserFields;
/** `PATCH /v1/users/{userId}` body: only what changes. */
export type ContaboUpdateUserBody = Partial<ContaboUserFields>;

/** A user as the decisions see it: the wire fields, roles as sorted ids. */
export interface ContaboUser extends Omit<ContaboUserFields, "locale"> {
  userId: string;
  owner: boolean;
  locale?: string | undefined;
}

/** The wire user in the decisions' shape. */
export function toContaboUser(json: ContaboUserJson): ContaboUser {
  return {
    userId: json.userId,
    firstName: json.firstName,
    lastName: json.lastName,
    email: json.email,
    enabled: json.enabled,
    totp: json.totp,
    admin: json.admin,
    accessAllResources: json.accessAllResources,
    locale: json.locale,
    roles: [...new Set(json.roles.map((r) => r.roleId))].sort((a, b) => a - b),
    owner: json.owner,
  };
}
