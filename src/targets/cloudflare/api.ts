/**
 * The Cloudflare API v4 as it is on the wire, for the parts the sync uses:
 *
 * - the v4 envelope `{ success, errors, messages, result, result_info }` with page/per_page
 *   paging (`result_info.total_pages`);
 * - account members (not in our reference; Cloudflare's API reference, "Account Members":
 *   https://developers.cloudflare.com/api/resources/accounts/subresources/members/ —
 *   `POST /accounts/{account_id}/members` with `{ email, roles }` invites (status `pending`
 *   until the person accepts), `DELETE /accounts/{account_id}/members/{member_id}` removes);
 * - IAM user groups and their members (`/work/shared/reference/cloudflare-iam-user-groups.txt`;
 *   the add (POST) and replace (PUT) bodies are a bare array `[{ id }]`, as the official
 *   cloudflare-typescript SDK sends them: src/resources/iam/user-groups/members.ts).
 */
import { z } from "zod";

/** Route templates, for errors and metrics. */
export const CLOUDFLARE_ROUTES = {
  members: "/accounts/{account_id}/members",
  member: "/accounts/{account_id}/members/{member_id}",
  userGroups: "/accounts/{account_id}/iam/user_groups",
  userGroup: "/accounts/{account_id}/iam/user_groups/{user_group_id}",
  groupMembers: "/accounts/{account_id}/iam/user_groups/{user_group_id}/members",
  groupMember: "/accounts/{account_id}/iam/user_groups/{user_group_id}/members/{member_id}",
} as const;

const Message = z.object({ code: z.number(), message: z.string() }).loose();

/** The v4 envelope around every answer. */
export const Envelope = z.object({
  success: z.boolean(),
  errors: z.array(Message).default([]),
  messages: z.array(Message).optional(),
  result: z.unknown(),
  result_info: z.object({
    page: z.number().int(),
    per_page: z.number().int(),
    count: z.number().int().optional(),
    total_count: z.number().int().optional(),
    total_pages: z.number().int().optional(),
  }).loose().optional(),
}).loose();

/** An account member. Older answers carry the email only under `user`. */
export const MemberJson = z.object({
  id: z.string().min(1),
  email: z.string().optional(),
  status: z.enum(["accepted", "pending"]).optional(),
  roles: z.array(z.object({ id: z.string(), name: z.string().optional() }).loose()).default([]),
  user: z.object({
    email: z.string().optional(),
    first_name: z.string().nullable().optional(),
    last_name: z.string().nullable().optional(),
  }).loose().optional(),
}).loose();

/** A member as a user group lists it. */
export const GroupMemberJson = z.object({
  id: z.string().min(1),
  email: z.string().optional(),
  status: z.enum(["accepted", "pending"]).optional(),
}).loose();

const PolicyJson = z.object({
  id: z.string().optional(),
  access: z.enum(["allow", "deny"]).optional(),
  permission_groups: z.array(z.object({ id: z.string() }).loose()).default([]),
  resource_groups: z.array(z.object({ id: z.string() }).loose()).default([]),
}).loose();

/** A user group. */
export const UserGroupJson = z.object({
  id: z.string().min(1),
  name: z.string(),
  policies: z.array(PolicyJson).nullable().optional(),
}).loose();

/** A user group's policy in our shape: what the mapping names, ids sorted. */
export interface CloudflarePolicy {
  access: "allow" | "deny";
  permissionGroups: string[];
  resourceGroups: string[];
}

/** An account member in our shape. */
export interface CloudflareMember {
  id: string;
  email: string;
  status: "accepted" | "pending";
  roleIds: string[];
  roleNames: string[];
  firstName?: string | undefined;
  lastName?: string | undefined;
}

/** A user group in our shape. */
export interface CloudflareUserGroup {
  id: string;
  name: string;
  policies: CloudflarePolicy[];
}

/** The wire member in our shape. */
export function toMember(json: z.infer<typeof MemberJson>): CloudflareMember {
  return {
    id: json.id,
    email: json.email ?? json.user?.email ?? "",
    status: json.status ?? "pending",
    roleIds: json.roles.map((r) => r.id).sort(),
    roleNames: json.roles.map((r) => r.name ?? "").filter(Boolean),
    firstName: json.user?.first_name ?? undefined,
    lastName: json.user?.last_name ?? undefined,
  };
}

/** Policies sorted and de-duplicated, so two sets compare by JSON. */
export function normalizePolicies(policies: readonly CloudflarePolicy[]): CloudflarePolicy[] {
  const sorted = policies.map((p) => ({
    access: p.access,
    permissionGroups: [...new Set(p.permissionGroups)].sort(),
    resourceGroups: [...new Set(p.resourceGroups)].sort(),
  }));
  const seen = new Set<string>();
  return sorted
    .filter((p) => {
      const key = JSON.stringify(p);
      return !seen.has(key) && seen.add(key);
    })
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** The wire group in our shape. */
export function toUserGroup(json: z.infer<typeof UserGroupJson>): CloudflareUserGroup {
  return {
    id: json.id,
    name: json.name,
    policies: normalizePolicies((json.policies ?? []).map((p) => ({
      access: p.access ?? "allow",
      permissionGroups: p.permission_groups.map((g) => g.id),
      resourceGroups: p.resource_groups.map((g) => g.id),
    }))),
  };
}

/** Our policies as the API takes them. */
export function policiesBody(policies: readonly CloudflarePolicy[]) {
  return policies.map((p) => ({
    access: p.access,
    permission_groups: p.permissionGroups.map((id) => ({ id })),
    resource_groups: p.resourceGroups.map((id) => ({ id })),
  }));
}
