/**
 * Finds IONOS users by email for the user jobs, choosing by count between one
 * `GET /um/users?filter.email=…` per lookup and a paged listing of every user shared by all the
 * lookups of a short window.
 *
 * Why by count: a lookup costs one call either way it is answered, and every call counts against
 * the contract's rate limit. One listing page answers for 100 users, so a listing of a contract
 * with M users costs ceil(M / 100) calls and answers every lookup of its freshness window. During
 * a bulk load (an initial sync of 1,000 users makes 1,000 lookups in about 10 minutes) that is a
 * few pages instead of hundreds of lookups; a contract with 100,000 users and a trickle of new
 * IdP users is the opposite, and one filtered lookup each is cheaper. So: the listing is used
 * while the lookups seen in the last window outnumber the pages the last listing took (or, before
 * any, at least `minLookupsForListing` of them), and per-user filters otherwise.
 *
 * Why it is safe: the listing may be up to `freshMs` old. An account it shows is adopted the same
 * way a filtered lookup would find it (the adoption policy still applies). An account made in
 * IONOS after the listing is missed: the create that follows is refused with 422 (IONOS allows
 * one account per email), and the job then waits and looks that email up on its own (see
 * `distrust`), exactly as after a filtered lookup that raced with the same outside create.
 */
import type { IonosClient } from "../src/targets/ionos/client.ts";
import type { IonosUser } from "../src/targets/ionos/types.ts";

/** Options for {@linkcode UserLookup}. */
export interface UserLookupOptions {
  /** How long one listing answers lookups, and the window lookups are counted in. @default 30_000 */
  freshMs?: number;
  /** Lookups in one window before the first listing is tried. @default 20 */
  minLookupsForListing?: number;
  /** Users per listing page (the client's page size). @default 100 */
  pageSize?: number;
  /** Clock. @default Date.now */
  now?: () => number;
}

/** The answer to one lookup, and whether it came from a shared listing. */
export interface UserLookupResult {
  user: IonosUser | undefined;
  fromListing: boolean;
}

interface Listing {
  startedAt: number;
  users: Promise<Map<string, IonosUser>>;
  /** Pages it took, once read (or that it would have taken at least, when cut short). */
  pages?: number;
  failed?: boolean;
}

/**
 * One per worker process.
 *
 * @example
 * const lookup = new UserLookup(ionos);
 * const { user } = await lookup.find("ada@example.com");
 */
export class UserLookup {
  readonly #ionos: IonosClient;
  readonly #freshMs: number;
  readonly #minLookups: number;
  readonly #pageSize: number;
  readonly #now: () => number;
  /** Times of recent lookups (the last `freshMs`). */
  #recent: number[] = [];
  #listing: Listing | undefined;
  /** Emails a listing must not answer for when taken before the time given. */
  readonly #distrusted = new Map<string, number>();

  constructor(ionos: IonosClient, options: UserLookupOptions = {}) {
    const { freshMs = 30_000, minLookupsForListing = 20, pageSize = 100, now = Date.now } = options;
    if (!(freshMs > 0) || !(pageSize > 0)) {
      throw new RangeError(
        `Cannot create UserLookup as 'freshMs' and 'pageSize' must be positive: current values are ${freshMs}, ${pageSize}`,
      );
    }
    this.#ionos = ionos;
    this.#freshMs = freshMs;
    this.#minLookups = minLookupsForListing;
    this.#pageSize = pageSize;
    this.#now = now;
  }

  /** The IONOS user with this email (case-insensitive, exact), if any. */
  async find(email: string): Promise<UserLookupResult> {
    const now = this.#now();
    const wanted = email.trim().toLowerCase();
    this.#recent.push(now);
    while (this.#recent.length && this.#recent[0]! <= now - this.#freshMs) this.#recent.shift();

    const listing = this.#currentListing(now);
    const distrustedSince = this.#distrusted.get(wanted);
    if (listing && !(distrustedSince !== undefined && listing.startedAt <= distrustedSince)) {
      try {
        return { user: (await listing.users).get(wanted), fromListing: true };
      } catch {
        // Too long, or a call failed: this lookup goes on its own, and a new listing is made
        // only when the count says it pays (a failed call left no page count: next lookup).
        listing.failed = true;
      }
    }
    return { user: await this.#ionos.findUserByEmail(email), fromListing: false };
  }

  /**
   * A listing's answer for `email` proved wrong (a create was refused with 422): until a listing
   * started after now, this email is looked up on its own.
   */
  distrust(email: string): void {
    this.#distrusted.set(email.trim().toLowerCase(), this.#now());
    if (this.#distrusted.size > 10_000) {
      const oldest = this.#distrusted.keys().next().value;
      if (oldest !== undefined) this.#distrusted.delete(oldest);
    }
  }

  /** The listing to answer from now: the fresh one, a new one, or none (look up one by one). */
  #currentListing(now: number): Listing | undefined {
    const last = this.#listing;
    const fresh = last && !last.failed && now - last.startedAt < this.#freshMs ? last : undefined;
    if (fresh) return fresh;
    const lastPages = this.#listing?.pages;
    const worth = lastPages === undefined
      ? this.#recent.length >= this.#minLookups
      : this.#recent.length > lastPages;
    if (!worth) return undefined;
    const listing: Listing = { startedAt: now, users: Promise.resolve(new Map()) };
    listing.users = this.#readAll(listing);
    this.#listing = listing;
    return listing;
  }

  /**
   * Reads every user, but never more pages than there are lookups to answer: on a contract
   * larger than that, the walk stops, and lookups stay one by one until more are waiting.
   */
  async #readAll(listing: Listing): Promise<Map<string, IonosUser>> {
    const maxPages = Math.max(this.#recent.length, this.#minLookups);
    const users = new Map<string, IonosUser>();
    let count = 0;
    for await (const user of this.#ionos.iterateUsers({ depth: 1 })) {
      if (++count > maxPages * this.#pageSize) {
        listing.pages = maxPages + 1;
        throw new RangeError(`more than ${maxPages} pages of users: looking up one by one`);
      }
      const email = user.properties?.email?.toLowerCase();
      if (email) users.set(email, user);
    }
    listing.pages = Math.max(1, Math.ceil(count / this.#pageSize));
    return users;
  }
}
