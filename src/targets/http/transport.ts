/**
 * One HTTP transport for every target client: rate limiting, `Retry-After`, retries with
 * jittered backoff, a per-request timeout, and errors that carry no secret. A client supplies
 * its auth headers and how to read its cloud's error body; everything else is the same.
 *
 * Retries here are short (a few attempts within seconds); a call that still fails becomes a
 * `TargetError` whose `retryable` lets the job retry much later (workers/failure_policy.ts).
 */
import type { RateLimiter } from "../rate_limiter.ts";
import { backoffDelay, parseRetryAfter, sleep } from "./retry.ts";
import { TargetApiError, TargetNetworkError } from "../errors.ts";
import type { TargetName } from "../target.ts";
import { scrubSecrets } from "./scrub.ts";

/** An answer the transport accepted (2xx, or a status the caller said it handles). */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or `undefined` for an empty body. */
  body: unknown;
}

/** What a cloud's error body says, in two fields. */
export interface ErrorDetail {
  message: string;
  code?: string;
}

/** Options for {@linkcode HttpTransport}. */
export interface HttpTransportOptions {
  target: TargetName;
  /** API base URL without a trailing slash. */
  baseUrl: string;
  /** Headers for each attempt (auth); called again on every attempt. */
  headers: () => Promise<Record<string, string>> | Record<string, string>;
  /** The credentials this client holds; scrubbed from every error text. */
  secrets: () => readonly string[];
  /** Reads the cloud's error body. @default the body text, trimmed */
  parseError?: ((body: unknown, text: string) => ErrorDetail) | undefined;
  /** Called on a 401; when it resolves `true` the call is tried once more (token refresh). */
  onUnauthorized?: (() => Promise<boolean> | boolean) | undefined;
  /** Shared budget; a 429 pauses it for everyone. @default none */
  limiter?: RateLimiter | undefined;
  /** Attempts per call, first included. @default 4 */
  maxAttempts?: number | undefined;
  /** @default 200 */
  baseDelayMs?: number | undefined;
  /** @default 10_000 */
  maxDelayMs?: number | undefined;
  /** Per attempt. @default 30_000 */
  timeoutMs?: number | undefined;
  /** @default globalThis.fetch */
  fetch?: typeof fetch | undefined;
}

/** One call. */
export interface HttpCall {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path after the base URL, ids already encoded. */
  path: string;
  /** Template for errors and metrics, e.g. `/v1/users/{id}`. */
  route: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** Extra headers for this call only. */
  headers?: Record<string, string>;
  /** Statuses returned as answers rather than thrown (e.g. 404 on a get). */
  accept?: readonly number[];
}

/** Whether repeating a call after an unclear failure cannot do something twice. */
const IDEMPOTENT = new Set(["GET", "PUT", "PATCH", "DELETE"]);

/** See the module comment. */
export class HttpTransport {
  readonly target: TargetName;
  readonly #o:
    & {
      [K in Exclude<keyof HttpTransportOptions, "limiter" | "onUnauthorized">]-?: Exclude<
        HttpTransportOptions[K],
        undefined
      >;
    }
    & {
      limiter: RateLimiter | undefined;
      onUnauthorized: HttpTransportOptions["onUnauthorized"];
    };

  constructor(options: HttpTransportOptions) {
    const {
      maxAttempts = 4,
      baseDelayMs = 200,
      maxDelayMs = 10_000,
      timeoutMs = 30_000,
      fetch: fetchImpl = globalThis.fetch.bind(globalThis),
      parseError = (_body, text) => ({ message: text.trim().slice(0, 500) || "(empty body)" }),
    } = options;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(
        `Cannot build a transport as 'maxAttempts' must be a positive integer: current value is ${maxAttempts}`,
      );
    }
    if (!(timeoutMs > 0)) {
      throw new RangeError(
        `Cannot build a transport as 'timeoutMs' must be positive: current value is ${timeoutMs}`,
      );
    }
    this.target = options.target;
    this.#o = {
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      maxAttempts,
      baseDelayMs,
      maxDelayMs,
      timeoutMs,
      fetch: fetchImpl,
      parseError,
      limiter: options.limiter,
      onUnauthorized: options.onUnauthorized,
    };
  }

  /**
   * Makes one call, retrying what may be retried.
   * @throws {TargetApiError} on an error status after the retries
   * @throws {TargetNetworkError} when no answer came after the retries
   */
  async request(call: HttpCall): Promise<HttpAnswer> {
    const o = this.#o;
    let refreshed = false;
    for (let attempt = 1;; attempt++) {
      let error: TargetApiError | TargetNetworkError;
      try {
        const answer = await this.#once(call);
        if (answer.status === 401 && o.onUnauthorized && !refreshed) {
          refreshed = true;
          if (await o.onUnauthorized()) {
            attempt--; // a refreshed token is not a failed attempt
            continue;
          }
        }
        if (answer.ok) return answer.answer;
        error = answer.error;
      } catch (caught) {
        if (!(caught instanceof TargetNetworkError)) throw caught;
        error = caught;
      }
      const rateLimited = error instanceof TargetApiError && error.status === 429;
      // A refused 429 was not processed, so even a POST may go again; other failures of a
      // POST may have created something, and the caller looks before it writes again.
      const mayRepeat = error.retryable && (rateLimited || IDEMPOTENT.has(call.method));
      if (!mayRepeat || attempt >= o.maxAttempts) throw error;
      // A long wait (Cloudflare blocks for the rest of its five minutes) is not spent holding a
      // worker slot: the error carries it, and the job comes back then (workers/target_worker.ts).
      if ((error.retryAfterMs ?? 0) > o.maxDelayMs) {
        if (rateLimited) await o.limiter?.pause(error.retryAfterMs!);
        throw error;
      }
      if (rateLimited) await o.limiter?.pause(error.retryAfterMs ?? 1000);
      await sleep(
        error.retryAfterMs ?? backoffDelay(attempt, o.baseDelayMs, o.maxDelayMs),
      );
    }
  }

  async #once(
    call: HttpCall,
  ): Promise<
    | { ok: true; status: number; answer: HttpAnswer }
    | { ok: false; status: number; error: TargetApiError }
  > {
    const o = this.#o;
    await o.limiter?.acquire();
    const url = new URL(o.baseUrl + call.path);
    for (const [k, v] of Object.entries(call.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      accept: "application/json",
      ...(await o.headers()),
      ...call.headers,
    };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await o.fetch(url, {
        method: call.method,
        headers,
        ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (cause) {
      const reason = cause instanceof DOMException && cause.name === "TimeoutError"
        ? `timed out after ${o.timeoutMs} ms`
        : scrubSecrets(cause instanceof Error ? cause.message : String(cause), o.secrets());
      throw new TargetNetworkError(this.target, call.method, call.route, reason);
    }
    const text = await res.text().catch(() => "");
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (res.ok || call.accept?.includes(res.status)) {
      return {
        ok: true,
        status: res.status,
        answer: { status: res.status, headers: res.headers, body },
      };
    }
    const detail = o.parseError(body, text);
    return {
      ok: false,
      status: res.status,
      error: new TargetApiError(this.target, {
        status: res.status,
        method: call.method,
        route: call.route,
        targetMessage: scrubSecrets(detail.message, o.secrets()),
        code: detail.code,
        retryAfterMs: parseRetryAfter(res.headers.get("retry-after")),
      }),
    };
  }
}
