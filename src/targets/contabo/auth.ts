/**
 * Bearer tokens for the Contabo API: OAuth2 password grant with the client id/secret and the
 * API user/password from the Customer Control Panel.
 *
 * Token endpoint, as Contabo's API documentation (https://api.contabo.com, "Getting Started")
 * shows it with curl:
 * `POST https://auth.contabo.com/auth/realms/contabo/protocol/openid-connect/token` with form
 * fields `client_id`, `client_secret`, `username`, `password`, `grant_type=password`; the answer's
 * `access_token` is sent as `Authorization: Bearer ...`. It is a Keycloak realm, so the answer
 * also has `expires_in` (seconds), which we use to refresh before it lapses.
 */
import { z } from "zod";
import { parseRetryAfter } from "../http/retry.ts";
import { TargetAuthError } from "../errors.ts";
import { scrubSecrets } from "../http/scrub.ts";

/** The default token endpoint (see the module comment for the source). */
export const CONTABO_DEFAULT_AUTH_URL =
  "https://auth.contabo.com/auth/realms/contabo/protocol/openid-connect/token";

/** The four credentials. All secret except `clientId` and `apiUser`, which are still kept out of logs. */
export interface ContaboCredentials {
  clientId: string;
  clientSecret: string;
  apiUser: string;
  apiPassword: string;
}

/** Options for {@linkcode ContaboTokenSource}. */
export interface ContaboTokenSourceOptions {
  /** @default CONTABO_DEFAULT_AUTH_URL */
  authUrl?: string | undefined;
  credentials: ContaboCredentials;
  /** Refresh this long before the token lapses. @default 30_000 */
  refreshMarginMs?: number | undefined;
  /** @default 30_000 */
  timeoutMs?: number | undefined;
  /** @default globalThis.fetch */
  fetch?: typeof fetch | undefined;
  /** @default Date.now */
  now?: (() => number) | undefined;
}

const TokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive().optional(),
}).loose();

/** Fetches, caches and refreshes the bearer token; concurrent callers share one fetch. */
export class ContaboTokenSource {
  readonly #o: {
    [K in keyof ContaboTokenSourceOptions]-?: Exclude<ContaboTokenSourceOptions[K], undefined>;
  };
  #token: { value: string; expiresAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(options: ContaboTokenSourceOptions) {
    const {
      authUrl = CONTABO_DEFAULT_AUTH_URL,
      refreshMarginMs = 30_000,
      timeoutMs = 30_000,
      fetch: fetchImpl = globalThis.fetch.bind(globalThis),
      now = Date.now,
    } = options;
    this.#o = {
      authUrl,
      credentials: options.credentials,
      refreshMarginMs,
      timeoutMs,
      fetch: fetchImpl,
      now,
    };
  }

  /** Every secret this source holds (the token too), for scrubbing. */
  secrets(): string[] {
    const c = this.#o.credentials;
    return [c.clientSecret, c.apiPassword, ...(this.#token ? [this.#token.value] : [])];
  }

  /** Forgets the token (after a 401), so the next `token()` fetches a new one. */
  invalidate(): void {
    this.#token = undefined;
  }

  /**
   * A valid token, fetched when none is cached or it is about to lapse.
   * @throws {TargetAuthError} wrong credentials (not retryable) or token endpoint trouble
   */
  token(): Promise<string> {
    const t = this.#token;
    if (t && this.#o.now() < t.expiresAt - this.#o.refreshMarginMs) return Promise.resolve(t.value);
    this.#pending ??= this.#fetchToken().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  async #fetchToken(): Promise<string> {
    const o = this.#o;
    const c = o.credentials;
    const form = new URLSearchParams({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      username: c.apiUser,
      password: c.apiPassword,
      grant_type: "password",
    });
    let res: Response;
    try {
      res = await o.fetch(o.authUrl, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: form,
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new TargetAuthError(
        "contabo",
        undefined,
        `token endpoint gave no answer: ${scrubSecrets(reason, this.secrets())}`,
        { retryable: true },
      );
    }
    const text = await res.text().catch(() => "");
    if (!res.ok) {
      // Keycloak answers `{ error, error_description }`; only those two short fields are kept.
      let reason = `HTTP ${res.status}`;
      try {
        const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
        if (typeof body.error === "string") {
          reason += ` ${body.error}${
            typeof body.error_description === "string" ? `: ${body.error_description}` : ""
          }`;
        }
      } catch { /* not JSON: the status says enough */ }
      const retryable = res.status === 429 || res.status >= 500;
      throw new TargetAuthError("contabo", res.status, scrubSecrets(reason, this.secrets()), {
        retryable,
        retryAfterMs: parseRetryAfter(res.headers.get("retry-after")),
      });
    }
    let parsed;
    try {
      parsed = TokenAnswer.parse(JSON.parse(text));
    } catch {
      throw new TargetAuthError(
        "contabo",
        res.status,
        "token endpoint answered without access_token",
        {
          retryable: true,
        },
      );
    }
    const lifetimeMs = (parsed.expires_in ?? 300) * 1000;
    this.#token = { value: parsed.access_token, expiresAt: o.now() + lifetimeMs };
    return parsed.access_token;
  }
}
