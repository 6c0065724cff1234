/**
 * The one typed client for IONOS Cloud API v6 User Management: the only code that builds IONOS
 * URLs, reads IONOS bodies and turns IONOS answers into errors (see ./errors.ts).
 *
 * Retry policy, decided here once:
 * - 429 is retried for every method (the request was not applied), waiting `Retry-After`, and
 *   the wait pauses the shared rate limiter so other workers back off too.
 * - 5xx, 408, network errors and timeouts are retried for GET, PUT and DELETE (idempotent) with
 *   exponential backoff and full jitter. POST is not retried: the write may have been applied and
 *   only the answer lost, so the retryable error goes up to the job layer, which looks up first.
 * - Every write waits for its request (`Location`) to reach DONE, as all official IONOS tools do.
 *   A request that ends FAILED was not applied: the write is sent again, a bounded number of times.
 */
import { type Logger, silentLogger } from "../../log.ts";
import { IonosApiError, IonosError, IonosNetworkError, IonosRequestFailedError } from "./errors.ts";
import type { PendingRequest, PendingWrites } from "./pending_writes.ts";
import { LocalRateLimiter, type RateLimiter } from "../rate_limiter.ts";
import {
  type IonosRequestItem,
  type RequestCheck,
  type RequestListQuery,
  type RequestStatusSource,
  RequestTracker,
} from "./request_tracker.ts";
import type { IonosResource, IonosS3Key, IonosShare } from "./access_types.ts";
import { backoffDelay, parseRetryAfter, sleep } from "../http/retry.ts";
import {
  IONOS_PRIVILEGES,
  type IonosCollection,
  type IonosErrorBody,
  type IonosGroup,
  type IonosGroupProperties,
  type IonosRequestStatus,
  type IonosUser,
  type IonosUserCreate,
  type IonosUserProperties,
} from "./types.ts";

/** One HTTP exchange, for metrics. `route` is a template such as `/um/users/{id}`. */
export interface IonosCallInfo {
  method: string;
  route: string;
  status: number | "error";
  durationMs: number;
}

/** A retry about to happen inside one client call. */
export interface IonosRetryInfo {
  method: string;
  route: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  delayMs: number;
  error: IonosError;
}

export interface IonosClientOptions {
  /** API root, e.g. `https://api.ionos.com/cloudapi/v6`. */
  baseUrl: string;
  /** Token (Bearer) works always; Basic only for accounts without 2-factor authentication. */
  auth: { token: string } | { username: string; password: string };
  /** Sent as `X-Contract-Number`, for accounts with several contracts. */
  contractNumber?: string | undefined;
  /** Budget shared by all workers with the same credentials. @default none (only pauses) */
  rateLimiter?: RateLimiter;
  /** Attempts for retryable failures inside one call. @default 5 */
  maxAttempts?: number;
  /** Backoff base. @default 200 */
  baseDelayMs?: number;
  /** Backoff cap. @default 10_000 */
  maxDelayMs?: number;
  /** Per HTTP request. @default 30_000 */
  timeoutMs?: number;
  /** First wait before polling a request; grows to `requestPollMaxIntervalMs`. @default 250 */
  requestPollIntervalMs?: number;
  /** Longest wait between two polls of one request. @default 2000 */
  requestPollMaxIntervalMs?: number;
  /**
   * Share of the rate limit polling may take: polls are spaced at least
   * `1 / (share × requestsPerSecond)` apart, whatever the number of requests in flight (one
   * listing covers them all, see `RequestTracker`). @default 0.05
   */
  requestPollBudgetShare?: number;
  /**
   * Watches in-flight requests; share one per process. @default one of its own, polling
   * through this client
   */
  requestTracker?: RequestTracker;
  /** How long to wait for a request to reach DONE. @default 300_000 */
  requestTimeoutMs?: number;
  /**
   * Times a write is sent in all while its request ends FAILED (not applied, so sending it
   * again is safe). 1 leaves every FAILED to the job layer. @default 3
   */
  failedRequestAttempts?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default silentLogger */
  logger?: Logger;
  onCall?: (info: IonosCallInfo) => void;
  onRetry?: (info: IonosRetryInfo) => void;
  /** Time spent waiting for the rate limiter before a request (only waits of 5 ms or more). */
  onRateLimitWait?: (ms: number) => void;
}

type Method = "GET" | "POST" | "PUT" | "DELETE";
type Query = Record<string, string | number | undefined>;

interface Call {
  method: Method;
  /** Template with `{name}` placeholders, filled from `params`. */
  route: string;
  params?: Record<string, string>;
  query?: Query;
  body?: unknown;
  /** Return a 404 answer instead of throwing. */
  allow404?: boolean;
  /** Extra strings to scrub from error messages (a new user's password). */
  secrets?: string[];
}

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A `Retry-After` longer than this is left to the job layer instead of sleeping in the call. */
const MAX_IN_CALL_WAIT_MS = 60_000;
const PAGE_SIZE = 100;

/**
 * Typed IONOS Cloud API v6 User Management client.
 *
 * @throws {IonosApiError} error statuses (404 only where documented as a result).
 * @throws {IonosNetworkError} no answer after the retries allowed.
 * @throws {IonosRequestFailedError} a write's request ended FAILED.
 * @throws {IonosRequestTimeoutError} a write's request did not reach DONE in time.
 *
 * @example
 * const ionos = new IonosClient({ baseUrl: "https://api.ionos.com/cloudapi/v6", auth: { token } });
 * const user = await ionos.findUserByEmail("ada@example.com") ??
 *   await ionos.createUser({ firstname: "Ada", lastname: "Lovelace", email: "ada@example.com",
 *     password, administrator: false, forceSecAuth: false, active: true });
 * await ionos.addGroupMember(groupId, user.id);
 */
export class IonosClient implements RequestStatusSource {
  readonly #baseUrl: string;
  readonly #headers: Record<string, string>;
  readonly #secrets: string[];
  readonly #limiter: RateLimiter;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timeoutMs: number;
  readonly #tracker: RequestTracker;
  readonly #failedAttempts: number;
  readonly #fetch: typeof fetch;
  readonly #log: Logger;
  readonly #onCall: IonosClientOptions["onCall"];
  readonly #onRetry: IonosClientOptions["onRetry"];
  readonly #onRateLimitWait: IonosClientOptions["onRateLimitWait"];
  readonly #options: IonosClientOptions;
  /** Set on a {@linkcode deferring} view: writes are recorded there instead of awaited. */
  #deferTo: PendingWrites | undefined;
  /** Secrets of deferred writes by request id, to scrub a FAILED message (shared by views). */
  #requestSecrets = new Map<string, string[]>();

  constructor(options: IonosClientOptions) {
    this.#options = options;
    const {
      baseUrl,
      auth,
      contractNumber,
      rateLimiter = new LocalRateLimiter({ requestsPerSecond: Infinity }),
      maxAttempts = 5,
      baseDelayMs = 200,
      maxDelayMs = 10_000,
      timeoutMs = 30_000,
      requestPollIntervalMs = 250,
      requestPollMaxIntervalMs = 2000,
      requestPollBudgetShare = 0.05,
      requestTimeoutMs = 300_000,
      failedRequestAttempts = 3,
      fetch: fetchFn = globalThis.fetch,
      logger = silentLogger,
    } = options;
    if (!/^https?:\/\//.test(baseUrl)) {
      throw new TypeError(`Cannot create IonosClient as 'baseUrl' must be an http(s) URL`);
    }
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(
        `Cannot create IonosClient as 'maxAttempts' must be a positive integer: current value is ${maxAttempts}`,
      );
    }
    if (!Number.isInteger(failedRequestAttempts) || failedRequestAttempts < 1) {
      throw new RangeError(
        `Cannot create IonosClient as 'failedRequestAttempts' must be a positive integer: current value is ${failedRequestAttempts}`,
      );
    }
    this.#failedAttempts = failedRequestAttempts;
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
    const basic = "token" in auth ? "" : base64(`${auth.username}:${auth.password}`);
    // The encoded Basic value is as secret as the password: scrub both.
    this.#secrets = "token" in auth ? [auth.token] : [auth.password, basic];
    this.#headers = {
      Accept: "application/json",
      Authorization: "token" in auth ? `Bearer ${auth.token}` : `Basic ${basic}`,
      ...(contractNumber ? { "X-Contract-Number": contractNumber } : {}),
    };
    this.#limiter = rateLimiter;
    this.#maxAttempts = maxAttempts;
    this.#baseDelayMs = baseDelayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#timeoutMs = timeoutMs;
    if (!(requestPollBudgetShare > 0 && requestPollBudgetShare <= 1)) {
      throw new RangeError(
        `Cannot create IonosClient as 'requestPollBudgetShare' must be in (0, 1]: current value is ${requestPollBudgetShare}`,
      );
    }
    this.#tracker = options.requestTracker ?? new RequestTracker({
      source: this,
      firstPollMs: requestPollIntervalMs,
      maxPollMs: requestPollMaxIntervalMs,
      // Read before each poll: the limiter may learn a lower contract limit meanwhile.
      minPollGapMs: () => {
        const rps = rateLimiter.requestsPerSecond ?? Infinity;
        return Number.isFinite(rps) ? 1000 / (requestPollBudgetShare * rps) : 0;
      },
      timeoutMs: requestTimeoutMs,
      logger,
    });
    this.#fetch = fetchFn;
    this.#log = logger;
    this.#onCall = options.onCall;
    this.#onRetry = options.onRetry;
    this.#onRateLimitWait = options.onRateLimitWait;
  }

  /**
   * A view of this client whose writes answer as soon as IONOS accepted them (202) and record
   * their request in `writes` instead of waiting for DONE; everything else (limiter, tracker,
   * hooks) is shared. The request tracker starts watching each one at once. A request that ends
   * FAILED is not sent again here: the job that checks it plans again (workers/request_steps.ts).
   */
  deferring(writes: PendingWrites): IonosClient {
    const view = new IonosClient({
      ...this.#options,
      rateLimiter: this.#limiter,
      requestTracker: this.#tracker,
    });
    view.#deferTo = writes;
    view.#requestSecrets = this.#requestSecrets;
    return view;
  }

  /**
   * What the request tracker knows of a deferred write's request now (never waits). A FAILED
   * message is scrubbed of the write's secrets, or left out when they are not known here.
   */
  checkRequest(request: PendingRequest): RequestCheck {
    const check = this.#tracker.check(request.id, { serverDate: request.serverDate ?? null });
    if (check.state === "ERROR" || check.message === undefined) return check;
    const secrets = this.#requestSecrets.get(request.id);
    if (!secrets && request.secretBody) return { state: check.state };
    return { state: check.state, message: this.#scrub(check.message, secrets ?? []) };
  }

  /** Resolves once every one of `requests` has an outcome (after {@linkcode checkRequest}). */
  requestsSettled(requests: PendingRequest[]): Promise<void> {
    return this.#tracker.settled(requests.map((r) => r.id));
  }

  /** Drops the known outcomes of `requests` once a job has acted on them. */
  forgetRequests(requests: PendingRequest[]): void {
    this.#tracker.forget(requests.map((r) => r.id));
    for (const r of requests) this.#requestSecrets.delete(r.id);
  }

  // ---- users ----

  /**
   * Looks a user up by email (server-side filter; a full listing is slow on large contracts).
   * The filter may match loosely, so the result is checked for an exact, case-insensitive match.
   */
  async findUserByEmail(email: string): Promise<IonosUser | undefined> {
    const wanted = email.trim().toLowerCase();
    for await (
      const user of this.#pages<IonosUser>("/um/users", {}, { "filter.email": email, depth: 1 })
    ) {
      if (user.properties?.email?.toLowerCase() === wanted) return user;
    }
    return undefined;
  }

  /** @returns undefined when the user does not exist. */
  async getUser(id: string): Promise<IonosUser | undefined> {
    const res = await this.#send({
      method: "GET",
      route: "/um/users/{id}",
      params: { id },
      query: { depth: 1 },
      allow404: true,
    });
    return res.status === 404 ? undefined : res.body as IonosUser;
  }

  /** One page of users. @param opts.depth @default 1 (0 returns references without properties) */
  async listUsers(opts: ListOptions = {}): Promise<IonosCollection<IonosUser>> {
    return await this.#list<IonosUser>("/um/users", {}, opts);
  }

  /** All users, fetched 100 at a time. */
  iterateUsers(opts: { depth?: 0 | 1 } = {}): AsyncGenerator<IonosUser> {
    return this.#pages<IonosUser>("/um/users", {}, { depth: opts.depth ?? 1 });
  }

  /** Creates a user and waits for DONE. Not retried on 5xx/network: look up, then retry. */
  async createUser(props: IonosUserCreate): Promise<IonosUser> {
    const res = await this.#write({
      method: "POST",
      route: "/um/users",
      body: { properties: { ...userBody(props), password: props.password } },
      secrets: [props.password],
    });
    return requireId(res.body as IonosUser, "POST /um/users");
  }

  /** Replaces the user's properties (send the full set, as the official tools do) and waits. */
  async updateUser(id: string, props: IonosUserProperties): Promise<IonosUser> {
    const res = await this.#write({
      method: "PUT",
      route: "/um/users/{id}",
      params: { id },
      body: { properties: { ...userBody(props), secAuthActive: props.secAuthActive } },
    });
    return res.body as IonosUser;
  }

  /**
   * Deletes a user and waits; a user already gone counts as done.
   * @returns false when it was already gone (a retry after a lost answer)
   */
  async deleteUser(id: string): Promise<boolean> {
    const res = await this.#write({
      method: "DELETE",
      route: "/um/users/{id}",
      params: { id },
      allow404: true,
    });
    return res.status !== 404;
  }

  /** Groups the user belongs to. */
  async getUserGroups(userId: string): Promise<IonosGroup[]> {
    const groups = await Array.fromAsync(
      this.#pages<IonosGroup>("/um/users/{id}/groups", { id: userId }),
    );
    return groups.map(normalizeGroup);
  }

  // ---- groups ----

  /** @returns undefined when the group does not exist. */
  async getGroup(id: string): Promise<IonosGroup | undefined> {
    const res = await this.#send({
      method: "GET",
      route: "/um/groups/{id}",
      params: { id },
      query: { depth: 1 },
      allow404: true,
    });
    return res.status === 404 ? undefined : normalizeGroup(res.body as IonosGroup);
  }

  /** All groups, fetched 100 at a time. */
  async *iterateGroups(opts: { depth?: 0 | 1 } = {}): AsyncGenerator<IonosGroup> {
    for await (const g of this.#pages<IonosGroup>("/um/groups", {}, { depth: opts.depth ?? 1 })) {
      yield normalizeGroup(g);
    }
  }

  /** Creates a group and waits for DONE. Not retried on 5xx/network: look up, then retry. */
  async createGroup(props: IonosGroupProperties): Promise<IonosGroup> {
    const res = await this.#write({
      method: "POST",
      route: "/um/groups",
      body: { properties: groupBody(props) },
    });
    return normalizeGroup(requireId(res.body as IonosGroup, "POST /um/groups"));
  }

  /** Replaces the group's name and every privilege flag, and waits. */
  async updateGroup(id: string, props: IonosGroupProperties): Promise<IonosGroup> {
    const res = await this.#write({
      method: "PUT",
      route: "/um/groups/{id}",
      params: { id },
      body: { properties: groupBody(props) },
    });
    return normalizeGroup(res.body as IonosGroup);
  }

  /**
   * Deletes a group and waits; a group already gone counts as done.
   * @returns false when it was already gone
   */
  async deleteGroup(id: string): Promise<boolean> {
    const res = await this.#write({
      method: "DELETE",
      route: "/um/groups/{id}",
      params: { id },
      allow404: true,
    });
    return res.status !== 404;
  }

  /** Members of a group (all pages). */
  listGroupMembers(groupId: string): Promise<IonosUser[]> {
    return Array.fromAsync(this.#pages<IonosUser>("/um/groups/{id}/users", { id: groupId }));
  }

  /** Adds a user to a group and waits. The user's own create request must be DONE first. */
  async addGroupMember(groupId: string, userId: string): Promise<void> {
    await this.#write({
      method: "POST",
      route: "/um/groups/{id}/users",
      params: { id: groupId },
      body: { id: userId },
    });
  }

  /**
   * Removes a user from a group and waits; not a member (404) counts as done.
   * @returns false when the user was not a member
   */
  async removeGroupMember(groupId: string, userId: string): Promise<boolean> {
    const res = await this.#write({
      method: "DELETE",
      route: "/um/groups/{id}/users/{userId}",
      params: { id: groupId, userId },
      allow404: true,
    });
    return res.status !== 404;
  }

  // ---- shares, resources, S3 keys ----

  /** The group's resource shares (all pages), flags as booleans. */
  async listGroupShares(groupId: string): Promise<IonosShare[]> {
    const shares = await Array.fromAsync(
      this.#pages<IonosShare>("/um/groups/{id}/shares", { id: groupId }),
    );
    return shares.map((s) => ({
      ...s,
      properties: {
        editPrivilege: s.properties?.editPrivilege === true,
        sharePrivilege: s.properties?.sharePrivilege === true,
      },
    }));
  }

  /** Shares a resource with a group and waits. Not retried on 5xx/network: list, then retry. */
  async addGroupShare(groupId: string, resourceId: string, flags: ShareBody): Promise<void> {
    await this.#write({
      method: "POST",
      route: "/um/groups/{id}/shares/{resourceId}",
      params: { id: groupId, resourceId },
      body: { type: "resource", properties: shareBody(flags) },
    });
  }

  /** Replaces both flags of a group's share and waits. */
  async updateGroupShare(groupId: string, resourceId: string, flags: ShareBody): Promise<void> {
    await this.#write({
      method: "PUT",
      route: "/um/groups/{id}/shares/{resourceId}",
      params: { id: groupId, resourceId },
      body: { type: "resource", properties: shareBody(flags) },
    });
  }

  /** Removes a share and waits; a share already gone (404) counts as done. */
  async removeGroupShare(groupId: string, resourceId: string): Promise<void> {
    await this.#write({
      method: "DELETE",
      route: "/um/groups/{id}/shares/{resourceId}",
      params: { id: groupId, resourceId },
      allow404: true,
    });
  }

  /** Every resource the contract can share (`GET /um/resources`, all pages). */
  listResources(): Promise<IonosResource[]> {
    return Array.fromAsync(this.#pages<IonosResource>("/um/resources", {}));
  }

  /**
   * The user's S3 keys: ids and whether each is active. IONOS answers with each key's secret;
   * it is dropped here and goes nowhere else.
   */
  async listS3Keys(userId: string): Promise<IonosS3Key[]> {
    const keys = await Array.fromAsync(
      this.#pages<{ id: string; properties?: { active?: unknown } }>(
        "/um/users/{id}/s3keys",
        { id: userId },
      ),
    );
    return keys.map((k) => ({ id: k.id, active: k.properties?.active === true }));
  }

  /** Turns an S3 key on or off (`PUT .../s3keys/{keyId}` with `active`) and waits. */
  async setS3KeyActive(userId: string, keyId: string, active: boolean): Promise<void> {
    await this.#write({
      method: "PUT",
      route: "/um/users/{id}/s3keys/{keyId}",
      params: { id: userId, keyId },
      // The answer carries the key's secret: it is not returned from here.
      body: { properties: { active } },
    });
  }

  /** Deletes an S3 key and waits; a key already gone (404) counts as done. */
  async deleteS3Key(userId: string, keyId: string): Promise<void> {
    await this.#write({
      method: "DELETE",
      route: "/um/users/{id}/s3keys/{keyId}",
      params: { id: userId, keyId },
      allow404: true,
    });
  }

  // ---- requests ----

  /**
   * Waits until a request is DONE, through the request tracker: one listing per interval covers
   * every request in flight. Only the request id is taken from `location`; URLs are rebuilt from
   * `baseUrl`, so the credentials never go to a host named in a response header.
   *
   * @param location The `Location` header of a 202 answer, or a request id.
   * @param serverDate The `Date` header of that answer, to bound the listing by creation time.
   * @throws {IonosRequestFailedError} status FAILED.
   * @throws {IonosRequestTimeoutError} not DONE within `requestTimeoutMs`.
   */
  async waitForRequest(location: string, serverDate?: string | null): Promise<IonosRequestStatus> {
    return await this.#waitForRequest(location, [], serverDate);
  }

  /**
   * {@linkcode waitForRequest} for a write whose body carried `secrets`: a FAILED status may
   * echo the request body (seen with IONOS answers that quote the rejected properties), so its
   * message is scrubbed of them, like every other error of that write.
   */
  async #waitForRequest(
    location: string,
    secrets: string[],
    serverDate?: string | null,
  ): Promise<IonosRequestStatus> {
    const id = requestIdOf(location);
    const status = await this.#tracker.wait(id, { serverDate: serverDate ?? null });
    if (status.metadata.status === "FAILED") {
      throw new IonosRequestFailedError(
        id,
        this.#scrub(status.metadata.message ?? "no message", secrets),
      );
    }
    return status;
  }

  /** One request's status (`GET /requests/{id}/status`). */
  async getRequestStatus(id: string): Promise<IonosRequestStatus> {
    const res = await this.#send({ method: "GET", route: "/requests/{id}/status", params: { id } });
    return res.body as IonosRequestStatus;
  }

  /**
   * One page of the contract's requests created after `query.createdAfter`, newest first, each
   * with its status inline (depth 2).
   */
  async listRequests(query: RequestListQuery): Promise<IonosRequestItem[]> {
    const res = await this.#send({
      method: "GET",
      route: "/requests",
      query: {
        depth: 2,
        "filter.createdAfter": query.createdAfter,
        offset: query.offset,
        limit: query.limit,
      },
    });
    // Items may carry the bodies of other writes (a new user's password among them): only ids and
    // states are read, and the listing is never logged.
    const items = (res.body as { items?: unknown } | undefined)?.items;
    return Array.isArray(items) ? items as IonosRequestItem[] : [];
  }

  // ---- plumbing ----

  async #list<T>(
    route: string,
    params: Record<string, string>,
    opts: ListOptions,
  ): Promise<IonosCollection<T>> {
    const { offset = 0, limit = PAGE_SIZE, depth = 1 } = opts;
    const res = await this.#send({
      method: "GET",
      route,
      params,
      query: { ...opts.query, depth, offset, limit },
    });
    const page = res.body as IonosCollection<T>;
    return { ...page, items: Array.isArray(page?.items) ? page.items : [] };
  }

  /**
   * Every item of a collection, 100 per page. Sub-collections (`/um/groups/{id}/users`) document
   * no paging and may ignore offset/limit: a page longer than asked, or one with nothing new,
   * ends the walk, so such an endpoint is read once instead of looping forever.
   */
  async *#pages<T extends { id: string }>(
    route: string,
    params: Record<string, string>,
    query: Query = { depth: 1 },
  ): AsyncGenerator<T> {
    const { depth = 1, ...rest } = query;
    const seen = new Set<string>();
    for (let offset = 0;;) {
      const page = await this.#list<T>(route, params, {
        offset,
        limit: PAGE_SIZE,
        depth: depth === 0 ? 0 : 1,
        query: rest,
      });
      let fresh = 0;
      for (const item of page.items) {
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        fresh++;
        yield item;
      }
      if (page.items.length !== PAGE_SIZE || fresh === 0) return;
      offset += PAGE_SIZE;
    }
  }

  /**
   * Sends a write and waits for its request, if IONOS named one. A request that ends FAILED was
   * not applied, so the write is sent again (also a POST: unlike a lost answer, the outcome is
   * known), up to `failedRequestAttempts` in all; then the FAILED error goes up to the job.
   */
  async #write(call: Call): Promise<Answer> {
    for (let attempt = 1;; attempt++) {
      const res = await this.#send(call);
      if (res.status === 404) return res; // only reached with allow404: already gone
      const location = res.headers.get("location");
      if (!location) {
        this.#log.warn("ionos write without Location", { method: call.method, route: call.route });
        return res;
      }
      if (this.#deferTo) {
        const serverDate = res.headers.get("date");
        const target = (res.body as { id?: unknown } | undefined)?.id;
        const request: PendingRequest = {
          id: requestIdOf(location),
          what: `${call.method} ${call.route}`,
          serverDate: serverDate || undefined,
          target: typeof target === "string" ? target : undefined,
          secretBody: call.secrets?.length ? true : undefined,
        };
        if (call.secrets?.length) this.#requestSecrets.set(request.id, call.secrets);
        this.#deferTo.add(request);
        this.checkRequest(request); // starts watching it now
        return res;
      }
      try {
        await this.#waitForRequest(location, call.secrets ?? [], res.headers.get("date"));
        return res;
      } catch (error) {
        if (!(error instanceof IonosRequestFailedError) || attempt >= this.#failedAttempts) {
          throw error;
        }
        this.#log.warn("ionos request failed; sending the write again", {
          method: call.method,
          route: call.route,
          attempt,
          error: error.message,
        });
        this.#onRetry?.({ method: call.method, route: call.route, attempt, delayMs: 0, error });
      }
    }
  }

  /** One logical call: rate limit, retries, error mapping. */
  async #send(call: Call): Promise<Answer> {
    const url = this.#url(call);
    let resumeAt = 0; // a 429 asked us to wait until then, whatever the limiter does
    for (let attempt = 1;; attempt++) {
      const waitStart = Date.now();
      await this.#limiter.acquire();
      await sleep(resumeAt - Date.now());
      const waited = Date.now() - waitStart;
      if (waited >= 5) this.#onRateLimitWait?.(waited);

      let error: IonosError;
      try {
        return await this.#attempt(call, url);
      } catch (err) {
        if (!(err instanceof IonosError)) throw err;
        error = err;
      }
      const rateLimited = error instanceof IonosApiError && error.status === 429;
      // POST answers lost to 5xx/network may hide an applied write: leave it to the job layer.
      const mayRetry = error.retryable && (rateLimited || call.method !== "POST");

      const retryAfter = error instanceof IonosApiError ? error.retryAfterMs : undefined;
      // Everyone sharing the credentials is over the limit, not just this call.
      if (rateLimited) await this.#limiter.pause(retryAfter ?? 1000);
      if (!mayRetry || attempt >= this.#maxAttempts) throw error;
      const backoff = backoffDelay(attempt, this.#baseDelayMs, this.#maxDelayMs);
      const delayMs = retryAfter ?? (rateLimited ? Math.max(1000, backoff) : backoff);
      if (delayMs > MAX_IN_CALL_WAIT_MS) throw error;
      resumeAt = Date.now() + delayMs;
      this.#log.warn("ionos call retrying", {
        method: call.method,
        route: call.route,
        attempt,
        delayMs,
        error: error.message,
      });
      this.#onRetry?.({ method: call.method, route: call.route, attempt, delayMs, error });
    }
  }

  /** One HTTP exchange. Throws IonosError for anything but 2xx (and an allowed 404). */
  async #attempt(call: Call, url: string): Promise<Answer> {
    const { method, route } = call;
    const started = performance.now();
    const done = (status: number | "error") => {
      const durationMs = Math.round(performance.now() - started);
      this.#onCall?.({ method, route, status, durationMs });
      this.#log.debug("ionos call", { method, route, status, durationMs });
    };
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(url, {
        method,
        headers: call.body === undefined
          ? this.#headers
          : { ...this.#headers, "Content-Type": "application/json" },
        body: call.body === undefined ? null : JSON.stringify(call.body),
        // Never follow: a 307/308 re-sends the body (a new user's password) and the credentials
        // to wherever `Location` points. A 3xx is an error below.
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      done("error");
      const reason = (err as Error)?.name === "TimeoutError"
        ? `timeout after ${this.#timeoutMs} ms`
        : this.#scrub(String((err as Error)?.message ?? err), call.secrets ?? []);
      throw new IonosNetworkError(method, route, reason, err);
    }
    done(res.status);
    await this.#slowDownIfLow(res.headers);

    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (res.ok || (res.status === 404 && call.allow404)) {
      return { status: res.status, headers: res.headers, body };
    }
    if (res.status >= 300 && res.status < 400) {
      // No 3xx answer is documented (none in ../shared/reference: ionos-facts.md, the v6 REST
      // reference); one means a proxy or a wrong IONOS_API_URL, and following it would hand our
      // request to someone else.
      throw new IonosApiError({
        status: res.status,
        ionosMessage: "redirect not followed (check IONOS_API_URL)",
        method,
        route,
      });
    }
    const errBody = body as Partial<IonosErrorBody> | undefined;
    const messages = Array.isArray(errBody?.messages) ? errBody.messages : [];
    const joined = messages.map((m) => m?.message).filter(Boolean).join("; ") ||
      (text && body === undefined ? text.slice(0, 200) : res.statusText || "no message");
    throw new IonosApiError({
      status: res.status,
      ionosMessage: this.#scrub(joined, call.secrets ?? []).slice(0, 1000),
      errorCode: messages[0]?.errorCode,
      method,
      route,
      retryAfterMs: parseRetryAfter(res.headers.get("retry-after")),
    });
  }

  /**
   * Every answer states the contract's limit: the limiter learns it (the configured rate is only
   * an upper bound). `X-RateLimit-Remaining` near zero: pause everyone for about one slot.
   */
  async #slowDownIfLow(headers: Headers): Promise<void> {
    const perMinute = Number(headers.get("x-ratelimit-limit") ?? NaN);
    if (perMinute > 0) this.#limiter.observe?.({ perMinute });
    const remaining = Number(headers.get("x-ratelimit-remaining") ?? NaN);
    if (!(remaining <= 1)) return;
    const ms = perMinute > 0 ? Math.min(5000, Math.max(200, Math.ceil(60_000 / perMinute))) : 1000;
    await this.#limiter.pause(ms);
  }

  #url(call: Call): string {
    const path = call.route.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = call.params?.[name];
      if (value === undefined) throw new TypeError(`missing route parameter '${name}'`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(call.query ?? {})) {
      if (v !== undefined) search.set(k, String(v));
    }
    const qs = search.toString();
    return `${this.#baseUrl}${path}${qs ? `?${qs}` : ""}`;
  }

  /**
   * Removes secrets by value: as sent, and as they read inside a JSON string (an echoed request
   * body escapes `"` and `\`). IONOS should never echo one, but a FAILED status did.
   */
  #scrub(text: string, extra: string[]): string {
    let out = text;
    for (const s of [...this.#secrets, ...extra]) {
      if (!s || s.length < 4) continue;
      for (const form of new Set([s, JSON.stringify(s).slice(1, -1)])) {
        out = out.split(form).join("[redacted]");
      }
    }
    return out;
  }
}

/** Paging options for `listUsers`. */
export interface ListOptions {
  /** @default 0 */
  offset?: number;
  /** 1 to 100. @default 100 */
  limit?: number;
  /** @default 1 */
  depth?: 0 | 1;
  /** Extra query parameters such as `filter.email`. */
  query?: Query;
}

/** The request id in a `Location` header (URLs are never followed, see `waitForRequest`). */
function requestIdOf(location: string): string {
  return location.match(/\/requests\/([^/?#]+)/)?.[1] ?? location;
}

function base64(s: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
  return btoa(bin);
}

function requireId<T extends { id?: string }>(body: T, what: string): T {
  if (!body || typeof body.id !== "string" || !body.id) {
    throw new IonosError(`IONOS ${what} answered without an id`, { retryable: false });
  }
  return body;
}

/** The REST page spells `createDatacenter`; the spec `createDataCenter`. Read both, fill gaps. */
function normalizeGroup(group: IonosGroup): IonosGroup {
  if (!group?.properties) return group;
  const raw = group.properties as unknown as Record<string, unknown>;
  const props = { ...raw, name: String(raw.name ?? "") } as Record<string, unknown>;
  if (props.createDataCenter === undefined && raw.createDatacenter !== undefined) {
    props.createDataCenter = raw.createDatacenter;
  }
  delete props.createDatacenter;
  for (const p of IONOS_PRIVILEGES) props[p] = props[p] === true;
  return { ...group, properties: props as IonosGroupProperties };
}

/**
 * Only the writable user properties (not `s3CanonicalUserId` from a read), so a caller may pass
 * `{ ...user.properties, lastname }`. `secAuthActive` is added by `updateUser` only: IONOS
 * refuses it on create.
 */
function userBody(props: IonosUserCreate | IonosUserProperties) {
  const { firstname, lastname, email, administrator, forceSecAuth, active } = props;
  return { firstname, lastname, email, administrator, forceSecAuth, active };
}

/** Exactly the name and every privilege flag, so a PUT is always a full set. */
function groupBody(props: IonosGroupProperties): IonosGroupProperties {
  const out = { name: props.name } as IonosGroupProperties;
  for (const p of IONOS_PRIVILEGES) out[p] = props[p] === true;
  return out;
}

/** A share's flags as the sync gives them. */
export interface ShareBody {
  edit: boolean;
  share: boolean;
}

/** The share body IONOS reads: both flags, always (PUT replaces them). */
function shareBody(flags: ShareBody) {
  return { editPrivilege: flags.edit === true, sharePrivilege: flags.share === true };
}
