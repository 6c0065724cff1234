/**
 * Contabo users API client (`/work/shared/reference/contabo-users-api.txt`): list with page/size
 * paging, get, create without a password, PATCH, DELETE, every call with a fresh `x-request-id`
 * UUID (required by every operation there) and a bearer token from `ContaboTokenSource`.
 */
import type { RateLimiter } from "../rate_limiter.ts";
import { TargetResponseError } from "../errors.ts";
import { type HttpCall, HttpTransport } from "../http/transport.ts";
import {
  CONTABO_ROUTES,
  type ContaboCreateUserBody,
  ContaboErrorBody,
  type ContaboUpdateUserBody,
  type ContaboUser,
  ContaboUserEnvelope,
  ContaboUserPage,
  toContaboUser,
} from "./api.ts";
import { type ContaboCredentials, ContaboTokenSource } from "./auth.ts";
import type { z } from "zod";

/** Options for {@linkcode ContaboClient}. */
export interface ContaboClientOptions {
  /** @default "https://api.contabo.com" */
  apiUrl?: string | undefined;
  /** Token endpoint. @default CONTABO_DEFAULT_AUTH_URL */
  authUrl?: string | undefined;
  credentials: ContaboCredentials;
  /** Shared call budget. @default none */
  limiter?: RateLimiter | undefined;
  /** Users per list page (the API's `size`). @default 100 */
  pageSize?: number | undefined;
  /** Attempts per call. @default 4 */
  maxAttempts?: number | undefined;
  /** @default 200 */
  baseDelayMs?: number | undefined;
  /** @default 30_000 */
  timeoutMs?: number | undefined;
  /** @default globalThis.fetch */
  fetch?: typeof fetch | undefined;
}

/** See the module comment. */
export class ContaboClient {
  readonly #http: HttpTransport;
  readonly #tokens: ContaboTokenSource;
  readonly #pageSize: number;

  constructor(options: ContaboClientOptions) {
    const { apiUrl = "https://api.contabo.com", pageSize = 100 } = options;
    if (!Number.isInteger(pageSize) || pageSize < 1) {
      throw new RangeError(
        `Cannot build a Contabo client as 'pageSize' must be a positive integer: current value is ${pageSize}`,
      );
    }
    this.#pageSize = pageSize;
    this.#tokens = new ContaboTokenSource({
      credentials: options.credentials,
      authUrl: options.authUrl,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
    });
    const tokens = this.#tokens;
    this.#http = new HttpTransport({
      target: "contabo",
      baseUrl: apiUrl,
      headers: async () => ({
        authorization: `Bearer ${await tokens.token()}`,
        "x-request-id": crypto.randomUUID(),
      }),
      secrets: () => tokens.secrets(),
      parseError: (body, text) => {
        const parsed = ContaboErrorBody.safeParse(body);
        const message = parsed.success && parsed.data.message !== undefined
          ? [parsed.data.message].flat().join("; ")
          : text.trim().slice(0, 500);
        return { message: message || "(empty body)" };
      },
      onUnauthorized: () => {
        tokens.invalidate();
        return true;
      },
      limiter: options.limiter,
      maxAttempts: options.maxAttempts,
      baseDelayMs: options.baseDelayMs,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
    });
  }

  /** Every user, page by page (`page` from 1, `size`), optionally filtered by email substring. */
  async *listUsers(filter: { email?: string } = {}): AsyncGenerator<ContaboUser> {
    for (let page = 1;; page++) {
      const answer = await this.#http.request({
        method: "GET",
        path: "/v1/users",
        route: CONTABO_ROUTES.users,
        query: { page, size: this.#pageSize, email: filter.email },
      });
      const body = parse(ContaboUserPage, answer.body, "GET", CONTABO_ROUTES.users);
      for (const user of body.data) yield toContaboUser(user);
      if (page >= body._pagination.totalPages || body.data.length === 0) return;
    }
  }

  /** The user with exactly this email (case-insensitive); the API filter is a substring match. */
  async findUserByEmail(email: string): Promise<ContaboUser | undefined> {
    const wanted = email.trim().toLowerCase();
    for await (const user of this.listUsers({ email: email.trim() })) {
      if (user.email.trim().toLowerCase() === wanted) return user;
    }
    return undefined;
  }

  /** `undefined` when Contabo answers 404. */
  async getUser(userId: string): Promise<ContaboUser | undefined> {
    const answer = await this.#http.request({
      method: "GET",
      path: `/v1/users/${encodeURIComponent(userId)}`,
      route: CONTABO_ROUTES.user,
      accept: [404],
    });
    if (answer.status === 404) return undefined;
    return this.#one(answer.body, "GET", CONTABO_ROUTES.user);
  }

  /** Creates a user; the person gets Contabo's e-mail to set their own password. */
  async createUser(body: ContaboCreateUserBody): Promise<ContaboUser> {
    const answer = await this.#http.request({
      method: "POST",
      path: "/v1/users",
      route: CONTABO_ROUTES.users,
      body,
    });
    return this.#one(answer.body, "POST", CONTABO_ROUTES.users);
  }

  /** Changes only the attributes in `patch`. */
  async updateUser(userId: string, patch: ContaboUpdateUserBody): Promise<ContaboUser> {
    const answer = await this.#http.request({
      method: "PATCH",
      path: `/v1/users/${encodeURIComponent(userId)}`,
      route: CONTABO_ROUTES.user,
      body: patch,
    });
    return this.#one(answer.body, "PATCH", CONTABO_ROUTES.user);
  }

  /** Deletes a user; `false` when it was already gone. */
  async deleteUser(userId: string): Promise<boolean> {
    const call: HttpCall = {
      method: "DELETE",
      path: `/v1/users/${encodeURIComponent(userId)}`,
      route: CONTABO_ROUTES.user,
      accept: [404],
    };
    return (await this.#http.request(call)).status !== 404;
  }

  #one(body: unknown, method: string, route: string): ContaboUser {
    return toContaboUser(parse(ContaboUserEnvelope, body, method, route).data[0]!);
  }
}

function parse<S extends z.ZodType>(
  schema: S,
  body: unknown,
  method: string,
  route: string,
): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new TargetResponseError(
      "contabo",
      method,
      route,
      `${issue?.path.join(".") || "(body)"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return result.data;
}
