/**
 * Cloudflare client for account members and IAM user groups (see `api.ts` for the sources).
 * Authenticates with an API token (`Authorization: Bearer`); reads the v4 envelope and treats
 * `success: false` as an error even under a 2xx; pages with `page`/`per_page`.
 *
 * Rate limit: Cloudflare publishes 1200 requests per five minutes per user/token, a 429 (with
 * `retry-after` in seconds) past it, and the block lasting the rest of the five minutes
 * (https://developers.cloudflare.com/fundamentals/api/reference/limits/). The limiter given
 * here should keep below 4 requests per second (`CLOUDFLARE_RATE_LIMIT_RPS`).
 */
import type { z } from "zod";
import type { RateLimiter } from "../rate_limiter.ts";
import { TargetApiError, TargetResponseError } from "../errors.ts";
import { type HttpCall, HttpTransport } from "../http/transport.ts";
import {
  CLOUDFLARE_ROUTES,
  type CloudflareMember,
  type CloudflarePolicy,
  type CloudflareUserGroup,
  Envelope,
  GroupMemberJson,
  MemberJson,
  policiesBody,
  toMember,
  toUserGroup,
  UserGroupJson,
} from "./api.ts";

/** Options for {@linkcode CloudflareClient}. */
export interface CloudflareClientOptions {
  /** @default "https://api.cloudflare.com/client/v4" */
  apiUrl?: string;
  apiToken: string;
  accountId: string;
  limiter?: RateLimiter;
  /** Items per list page; Cloudflare caps members at 50. @default 50 */
  perPage?: number;
  /** @default 4 */
  maxAttempts?: number;
  /** @default 200 */
  baseDelayMs?: number;
  /** @default 30_000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** A group member as a user group lists it. */
export type CloudflareGroupMember = z.infer<typeof GroupMemberJson>;

/** See the module comment. */
export class CloudflareClient {
  readonly #http: HttpTransport;
  readonly #account: string;
  readonly #perPage: number;

  constructor(options: CloudflareClientOptions) {
    const { apiUrl = "https://api.cloudflare.com/client/v4", perPage = 50 } = options;
    if (!/^[0-9a-f]{32}$/i.test(options.accountId)) {
      throw new RangeError(
        `Cannot build a Cloudflare client as 'accountId' must be 32 hex digits: current value is ${options.accountId}`,
      );
    }
    this.#account = encodeURIComponent(options.accountId);
    this.#perPage = perPage;
    const token = options.apiToken;
    this.#http = new HttpTransport({
      target: "cloudflare",
      baseUrl: apiUrl,
      headers: () => ({ authorization: `Bearer ${token}` }),
      secrets: () => [token],
      parseError: (body, text) => {
        const env = Envelope.safeParse(body);
        const first = env.success ? env.data.errors[0] : undefined;
        if (!env.success || !first) return { message: text.trim().slice(0, 500) || "(empty body)" };
        return {
          message: env.data.errors.map((e) => `${e.code}: ${e.message}`).join("; "),
          code: String(first.code),
        };
      },
      limiter: options.limiter,
      maxAttempts: options.maxAttempts,
      baseDelayMs: options.baseDelayMs,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
    });
  }

  // --- account members ---------------------------------------------------------------------

  /** Every account member, page by page. */
  listMembers(): AsyncGenerator<CloudflareMember> {
    return this.#pages(
      `/accounts/${this.#account}/members`,
      CLOUDFLARE_ROUTES.members,
      (r) => toMember(this.#parse(MemberJson, r, "GET", CLOUDFLARE_ROUTES.members)),
    );
  }

  /** The member with this email (case-insensitive), pending or accepted. */
  async findMemberByEmail(email: string): Promise<CloudflareMember | undefined> {
    const wanted = email.trim().toLowerCase();
    for await (const m of this.listMembers()) {
      if (m.email.trim().toLowerCase() === wanted) return m;
    }
    return undefined;
  }

  /** `undefined` when unknown. */
  async getMember(memberId: string): Promise<CloudflareMember | undefined> {
    const route = CLOUDFLARE_ROUTES.member;
    const result = await this.#call({
      method: "GET",
      path: `/accounts/${this.#account}/members/${encodeURIComponent(memberId)}`,
      route,
      accept: [404],
    });
    return result === NOT_FOUND
      ? undefined
      : toMember(this.#parse(MemberJson, result, "GET", route));
  }

  /** Invites by email; the member stays `pending` until the person accepts. */
  async inviteMember(email: string, roleIds: readonly string[]): Promise<CloudflareMember> {
    const route = CLOUDFLARE_ROUTES.members;
    const result = await this.#call({
      method: "POST",
      path: `/accounts/${this.#account}/members`,
      route,
      body: { email, roles: [...roleIds] },
    });
    return toMember(this.#parse(MemberJson, result, "POST", route));
  }

  /** Removes a member (or withdraws a pending invitation); `false` when already gone. */
  async removeMember(memberId: string): Promise<boolean> {
    const result = await this.#call({
      method: "DELETE",
      path: `/accounts/${this.#account}/members/${encodeURIComponent(memberId)}`,
      route: CLOUDFLARE_ROUTES.member,
      accept: [404],
    });
    return result !== NOT_FOUND;
  }

  // --- user groups -------------------------------------------------------------------------

  /** Every user group, page by page. */
  listUserGroups(): AsyncGenerator<CloudflareUserGroup> {
    return this.#pages(
      `/accounts/${this.#account}/iam/user_groups`,
      CLOUDFLARE_ROUTES.userGroups,
      (r) => toUserGroup(this.#parse(UserGroupJson, r, "GET", CLOUDFLARE_ROUTES.userGroups)),
    );
  }

  /** Exact name match. */
  async findUserGroupByName(name: string): Promise<CloudflareUserGroup | undefined> {
    for await (const g of this.listUserGroups()) if (g.name === name) return g;
    return undefined;
  }

  /** `undefined` when unknown. */
  async getUserGroup(groupId: string): Promise<CloudflareUserGroup | undefined> {
    const route = CLOUDFLARE_ROUTES.userGroup;
    const result = await this.#call({
      method: "GET",
      path: `/accounts/${this.#account}/iam/user_groups/${encodeURIComponent(groupId)}`,
      route,
      accept: [404],
    });
    return result === NOT_FOUND
      ? undefined
      : toUserGroup(this.#parse(UserGroupJson, result, "GET", route));
  }

  /** Creates a user group with the given policies. */
  async createUserGroup(
    input: { name: string; policies: readonly CloudflarePolicy[] },
  ): Promise<CloudflareUserGroup> {
    const route = CLOUDFLARE_ROUTES.userGroups;
    const result = await this.#call({
      method: "POST",
      path: `/accounts/${this.#account}/iam/user_groups`,
      route,
      body: { name: input.name, policies: policiesBody(input.policies) },
    });
    return toUserGroup(this.#parse(UserGroupJson, result, "POST", route));
  }

  /** Sets a group's name and its whole policy list (PUT replaces the policies). */
  async updateUserGroup(
    groupId: string,
    input: { name: string; policies: readonly CloudflarePolicy[] },
  ): Promise<CloudflareUserGroup> {
    const route = CLOUDFLARE_ROUTES.userGroup;
    const result = await this.#call({
      method: "PUT",
      path: `/accounts/${this.#account}/iam/user_groups/${encodeURIComponent(groupId)}`,
      route,
      body: { name: input.name, policies: policiesBody(input.policies) },
    });
    return toUserGroup(this.#parse(UserGroupJson, result, "PUT", route));
  }

  /** `false` when already gone. */
  async deleteUserGroup(groupId: string): Promise<boolean> {
    const result = await this.#call({
      method: "DELETE",
      path: `/accounts/${this.#account}/iam/user_groups/${encodeURIComponent(groupId)}`,
      route: CLOUDFLARE_ROUTES.userGroup,
      accept: [404],
    });
    return result !== NOT_FOUND;
  }

  // --- user group members ------------------------------------------------------------------

  /** Every member of a group. */
  async listGroupMembers(groupId: string): Promise<CloudflareGroupMember[]> {
    const route = CLOUDFLARE_ROUTES.groupMembers;
    const out: CloudflareGroupMember[] = [];
    const path = `/accounts/${this.#account}/iam/user_groups/${
      encodeURIComponent(groupId)
    }/members`;
    for await (
      const m of this.#pages(path, route, (r) => this.#parse(GroupMemberJson, r, "GET", route))
    ) {
      out.push(m);
    }
    return out;
  }

  /** Adds members (POST, body `[{ id }]`); members already in stay. */
  async addGroupMembers(groupId: string, memberIds: readonly string[]): Promise<void> {
    if (memberIds.length === 0) return;
    await this.#call({
      method: "POST",
      path: `/accounts/${this.#account}/iam/user_groups/${encodeURIComponent(groupId)}/members`,
      route: CLOUDFLARE_ROUTES.groupMembers,
      body: memberIds.map((id) => ({ id })),
    });
  }

  /** Replaces the whole member list (PUT, body `[{ id }]`). */
  async replaceGroupMembers(groupId: string, memberIds: readonly string[]): Promise<void> {
    await this.#call({
      method: "PUT",
      path: `/accounts/${this.#account}/iam/user_groups/${encodeURIComponent(groupId)}/members`,
      route: CLOUDFLARE_ROUTES.groupMembers,
      body: memberIds.map((id) => ({ id })),
    });
  }

  /** `false` when the member was not in the group. */
  async removeGroupMember(groupId: string, memberId: string): Promise<boolean> {
    const result = await this.#call({
      method: "DELETE",
      path: `/accounts/${this.#account}/iam/user_groups/${encodeURIComponent(groupId)}/members/${
        encodeURIComponent(memberId)
      }`,
      route: CLOUDFLARE_ROUTES.groupMember,
      accept: [404],
    });
    return result !== NOT_FOUND;
  }

  // --- envelope and paging -----------------------------------------------------------------

  /** The envelope's `result`, or NOT_FOUND for an accepted 404. */
  async #call(call: HttpCall): Promise<unknown> {
    const answer = await this.#http.request(call);
    if (answer.status === 404) return NOT_FOUND;
    const env = this.#parse(Envelope, answer.body, call.method, call.route);
    if (!env.success) {
      // A 2xx with success: false is still a failure; the envelope says why.
      throw new TargetApiError("cloudflare", {
        status: answer.status,
        method: call.method,
        route: call.route,
        targetMessage: env.errors.map((e) => `${e.code}: ${e.message}`).join("; ") ||
          "success: false",
        code: env.errors[0] ? String(env.errors[0].code) : undefined,
      });
    }
    return env.result;
  }

  async *#pages<T>(path: string, route: string, each: (raw: unknown) => T): AsyncGenerator<T> {
    for (let page = 1;; page++) {
      const answer = await this.#http.request({
        method: "GET",
        path,
        route,
        query: { page, per_page: this.#perPage },
      });
      const env = this.#parse(Envelope, answer.body, "GET", route);
      if (!env.success || !Array.isArray(env.result)) {
        throw new TargetResponseError("cloudflare", "GET", route, "list result is not an array");
      }
      for (const raw of env.result) yield each(raw);
      const total = env.result_info?.total_pages;
      if (env.result.length === 0 || total === undefined || page >= total) return;
    }
  }

  #parse<S extends z.ZodType>(schema: S, body: unknown, method: string, route: string): z.infer<S> {
    const result = schema.safeParse(body);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new TargetResponseError(
        "cloudflare",
        method,
        route,
        `${issue?.path.join(".") || "(body)"}: ${issue?.message ?? "invalid"}`,
      );
    }
    return result.data;
  }
}

const NOT_FOUND = Symbol("not found");
