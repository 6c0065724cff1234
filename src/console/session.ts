/**
 * Console sessions, kept in Redis with a TTL. The cookie holds only a random session id, never
 * the admin token; Redis holds the id's SHA-256, so a Redis dump gives no usable cookie. Each
 * session carries its own CSRF token for forms and a fingerprint of the admin token it was
 * opened with: rotating ADMIN_TOKEN ends every session at once. Sign-out deletes the session,
 * so a copied cookie dies with it (a signed stateless cookie would live on until its expiry).
 */
import type { Redis } from "ioredis";
import { timingSafeEqual } from "../intake/auth/hmac.ts";
import { type StoreKeys, storeKeys } from "../store/keys.ts";

/** What a signed-in request knows about its session. */
export interface ConsoleSession {
  /** Hash of the session id: safe to log, names the session in the audit log. */
  handle: string;
  /** Put into every form; a POST without it is refused. */
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

interface StoredSession {
  csrf: string;
  token: string;
  createdAt: number;
  expiresAt: number;
}

export interface SessionStoreOptions {
  /** @default "sync" */
  prefix?: string | undefined;
  /** How long a session lasts; not extended by use. @default 8 hours (one shift) */
  ttlMs?: number | undefined;
  /** @default Date.now */
  now?: (() => number) | undefined;
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return base64url(new Uint8Array(digest));
}

/**
 * @example
 * const sessions = new SessionStore(redis, adminToken, { prefix: "sync" });
 * const { id } = await sessions.open();  // cookie value
 * const session = await sessions.read(id);
 */
export class SessionStore {
  readonly ttlMs: number;
  readonly #redis: Redis;
  readonly #keys: StoreKeys;
  readonly #now: () => number;
  readonly #tokenFingerprint: Promise<string>;

  constructor(redis: Redis, adminToken: string, options: SessionStoreOptions = {}) {
    this.#redis = redis;
    this.#keys = storeKeys(options.prefix ?? "sync");
    this.ttlMs = options.ttlMs ?? 8 * 3_600_000;
    this.#now = options.now ?? Date.now;
    // A fingerprint, not the token: a Redis reader learns nothing from it.
    this.#tokenFingerprint = sha256(`console-session\n${adminToken}`);
  }

  /** Opens a session; `id` goes into the cookie and nowhere else. */
  async open(): Promise<{ id: string; session: ConsoleSession }> {
    const id = randomToken();
    const handle = await sha256(id);
    const createdAt = this.#now();
    const stored: StoredSession = {
      csrf: randomToken(),
      token: await this.#tokenFingerprint,
      createdAt,
      expiresAt: createdAt + this.ttlMs,
    };
    await this.#redis.set(
      this.#keys.consoleSession(handle),
      JSON.stringify(stored),
      "PX",
      this.ttlMs,
    );
    return {
      id,
      session: { handle, csrfToken: stored.csrf, createdAt, expiresAt: stored.expiresAt },
    };
  }

  /** The session for a cookie value, or undefined when unknown, expired or from an old token. */
  async read(id: string | undefined): Promise<ConsoleSession | undefined> {
    if (!id || id.length > 100) return undefined;
    const handle = await sha256(id);
    const raw = await this.#redis.get(this.#keys.consoleSession(handle));
    if (!raw) return undefined;
    let stored: StoredSession;
    try {
      stored = JSON.parse(raw) as StoredSession;
    } catch {
      return undefined;
    }
    if (stored.expiresAt <= this.#now()) return undefined;
    if (!timingSafeEqual(stored.token, await this.#tokenFingerprint)) return undefined;
    return {
      handle,
      csrfToken: stored.csrf,
      createdAt: stored.createdAt,
      expiresAt: stored.expiresAt,
    };
  }

  /** Ends a session (sign-out). */
  async close(handle: string): Promise<void> {
    await this.#redis.del(this.#keys.consoleSession(handle));
  }
}
