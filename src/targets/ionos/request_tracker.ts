/**
 * Watches every in-flight IONOS request of a process and learns their states in as few calls as
 * the API allows. Each UM write answers 202 with a request that takes seconds to reach DONE
 * (ionos-facts.md, "Requests"), and every GET spent on polling counts against the same
 * per-contract rate limit as the writes. Polling each request on its own costs one call per
 * request per interval; one `GET /requests?depth=2&filter.createdAfter=…` listing carries the
 * status of all of them inline (sdk-python docs/api/RequestsApi.md), so 50 writes in flight cost
 * one call per interval.
 *
 * With fewer than `listThreshold` in flight, or when the listing is not available, a
 * `GET /requests/{id}/status` per request is the fallback; it is also used for a request two
 * listings in a row did not show (clock skew, or more requests than `maxPages` pages).
 */
import { type Logger, silentLogger } from "../../log.ts";
import { IonosApiError, IonosError, IonosRequestTimeoutError } from "./errors.ts";
import { sleep as realSleep } from "../http/retry.ts";
import type { IonosRequestState, IonosRequestStatus } from "./types.ts";

/** A listed request at depth 2 (only what the tracker reads). */
export interface IonosRequestItem {
  id: string;
  metadata?: { requestStatus?: Partial<IonosRequestStatus> };
}

/** Parameters of one `GET /requests` page. */
export interface RequestListQuery {
  /** `filter.createdAfter`, `yyyy-MM-dd HH:mm:ss` (UTC). */
  createdAfter: string;
  offset: number;
  limit: number;
}

/** Where the tracker learns states from: the IONOS client, in production. */
export interface RequestStatusSource {
  /** One page of `GET /requests` at depth 2, newest first. */
  listRequests(query: RequestListQuery): Promise<IonosRequestItem[]>;
  /** `GET /requests/{id}/status`. */
  getRequestStatus(id: string): Promise<IonosRequestStatus>;
}

/** Options for {@linkcode RequestTracker}. */
export interface RequestTrackerOptions {
  source: RequestStatusSource;
  /** A request is first polled this long after it was made. @default 250 */
  firstPollMs?: number;
  /** Each request's poll interval grows by half from `firstPollMs` up to this. @default 2000 */
  maxPollMs?: number;
  /**
   * Least time between two polls, whatever the number of requests in flight: a number, or a
   * function read before each poll (the client derives it from the rate limit, so polling
   * takes a small share of the budget). @default 0
   */
  minPollGapMs?: number | (() => number);
  /** How long one request may take to finish. @default 300_000 */
  timeoutMs?: number;
  /** From this many requests in flight, one listing instead of a status GET each. @default 2 */
  listThreshold?: number;
  /** Page size of the listing (the API's default). @default 1000 */
  pageSize?: number;
  /** Pages read per listing at most; requests beyond fall back to status GETs. @default 5 */
  maxPages?: number;
  /** Status GETs per poll for requests the listing missed. @default 10 */
  maxFallbackPerPoll?: number;
  /** @default silentLogger */
  logger?: Logger;
  /** Called once per poll call, for metrics and tests. */
  onPoll?: (kind: "list" | "status") => void;
  /** Clock. @default Date.now */
  now?: () => number;
  /** @default setTimeout-based sleep */
  sleep?: (ms: number) => Promise<void>;
}

/** When a request was made, for `filter.createdAfter`. */
export interface TrackOptions {
  /** The server's `Date` header of the 202 answer; the local clock if absent. */
  serverDate?: string | null;
}

/**
 * What {@linkcode RequestTracker.check} knows of a request now: a final state, a state still
 * running, or `ERROR` when watching it failed (timed out, or a poll failed for good).
 */
export type RequestCheck =
  | { state: IonosRequestState; message?: string | undefined }
  | { state: "ERROR"; error: unknown };

interface Watch {
  settled: Promise<void>;
  result?: RequestCheck;
}

/** Outcomes kept for {@linkcode RequestTracker.check}; the oldest go first beyond this. */
const MAX_WATCHES = 50_000;

interface Entry {
  id: string;
  /** Creation time in the server's clock, minus the margin for `filter.createdAfter`. */
  after: number;
  deadline: number;
  started: number;
  /** When this request should next be looked at, and its current interval. */
  due: number;
  interval: number;
  last?: IonosRequestState | undefined;
  misses: number;
  resolve: (s: IonosRequestStatus) => void;
  reject: (e: unknown) => void;
}

// The Date header has 1 s resolution: 2 s of margin covers truncation on both sides. Without it
// the local clock may be off by more; a minute is plenty and only makes listings a bit longer.
const SERVER_DATE_MARGIN_MS = 2_000;
const LOCAL_CLOCK_MARGIN_MS = 60_000;
/** Statuses that say the listing route is missing here, not that a call failed. */
const NO_LISTING = new Set([400, 404, 405, 501]);

/**
 * One per process: {@linkcode wait} resolves when a request is DONE or FAILED.
 *
 * @example
 * const tracker = new RequestTracker({ source: ionosClient });
 * const status = await tracker.wait(requestId, { serverDate: res.headers.get("date") });
 */
export class RequestTracker {
  readonly #source: RequestStatusSource;
  readonly #firstPollMs: number;
  readonly #maxPollMs: number;
  readonly #minGap: () => number;
  readonly #timeoutMs: number;
  readonly #listThreshold: number;
  readonly #pageSize: number;
  readonly #maxPages: number;
  readonly #maxFallback: number;
  readonly #log: Logger;
  readonly #onPoll: RequestTrackerOptions["onPoll"];
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #pending = new Map<string, Entry>();
  /** Requests watched without a waiter (see `check`), with their outcome once known. */
  readonly #watches = new Map<string, Watch>();
  #running = false;
  #listing = true;
  #lastPoll = -Infinity;
  /** When the loop plans to wake, and how to wake it sooner. */
  #wakeAt = Infinity;
  #wake: (() => void) | undefined;

  constructor(options: RequestTrackerOptions) {
    const {
      source,
      firstPollMs = 250,
      maxPollMs = 2000,
      minPollGapMs = 0,
      timeoutMs = 300_000,
      listThreshold = 2,
      pageSize = 1000,
      maxPages = 5,
      maxFallbackPerPoll = 10,
      logger = silentLogger,
      now = Date.now,
      sleep = realSleep,
    } = options;
    for (
      const [name, v] of Object.entries({ firstPollMs, maxPollMs, timeoutMs, pageSize, maxPages })
    ) {
      if (!(v > 0)) {
        throw new RangeError(
          `Cannot track requests as '${name}' must be positive: current value is ${v}`,
        );
      }
    }
    this.#source = source;
    this.#firstPollMs = firstPollMs;
    this.#maxPollMs = Math.max(firstPollMs, maxPollMs);
    this.#minGap = typeof minPollGapMs === "function" ? minPollGapMs : () => minPollGapMs;
    this.#timeoutMs = timeoutMs;
    this.#listThreshold = listThreshold;
    this.#pageSize = pageSize;
    this.#maxPages = maxPages;
    this.#maxFallback = Math.max(1, maxFallbackPerPoll);
    this.#log = logger;
    this.#onPoll = options.onPoll;
    this.#now = now;
    this.#sleep = sleep;
  }

  /** Requests in flight now. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Waits until request `id` is DONE or FAILED and returns its last status; the caller decides
   * what FAILED means.
   * @throws {IonosRequestTimeoutError} not finished within `timeoutMs`.
   * @throws {IonosError} a poll failed for good (e.g. 401).
   */
  wait(id: string, options: TrackOptions = {}): Promise<IonosRequestStatus> {
    const existing = this.#pending.get(id);
    if (existing) return new Promise((res, rej) => this.#chain(existing, res, rej));
    const now = this.#now();
    const server = options.serverDate ? Date.parse(options.serverDate) : NaN;
    const after = Number.isNaN(server)
      ? now - LOCAL_CLOCK_MARGIN_MS
      : server - SERVER_DATE_MARGIN_MS;
    const promise = new Promise<IonosRequestStatus>((resolve, reject) => {
      this.#pending.set(id, {
        id,
        after,
        started: now,
        deadline: now + this.#timeoutMs,
        due: now + this.#firstPollMs,
        interval: this.#firstPollMs,
        misses: 0,
        resolve,
        reject,
      });
    });
    if (!this.#running) void this.#loop();
    else if (now + this.#firstPollMs < this.#wakeAt) this.#wake?.(); // due before the plan
    return promise;
  }

  /**
   * The state of request `id` as known now, without waiting: a job that must not hold its worker
   * slot while the request runs asks again later. The first check starts watching the request
   * (a write sent without waiting is checked at once, so its watch starts with the write); the
   * outcome stays known until {@linkcode forget}.
   */
  check(id: string, options: TrackOptions = {}): RequestCheck {
    let watch = this.#watches.get(id);
    if (!watch) {
      const w: Watch = {
        settled: this.wait(id, options).then(
          (s) =>
            void (w.result = {
              state: s.metadata.status,
              message: s.metadata.message || undefined,
            }),
          (error) => void (w.result = { state: "ERROR", error }),
        ),
      };
      watch = w;
      this.#watches.set(id, w);
      this.#evict();
    }
    return watch.result ?? { state: this.#pending.get(id)?.last ?? "QUEUED" };
  }

  /** Resolves once every one of `ids` has an outcome ({@linkcode check} starts the watches). */
  async settled(ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.#watches.get(id)?.settled));
  }

  /** Drops the outcomes of `ids`: their job has read them for good. */
  forget(ids: string[]): void {
    for (const id of ids) if (this.#watches.get(id)?.result) this.#watches.delete(id);
  }

  /** Keeps the watch list bounded: outcomes nobody asked for again go first, oldest first. */
  #evict(): void {
    if (this.#watches.size <= MAX_WATCHES) return;
    for (const [id, w] of this.#watches) {
      if (this.#watches.size <= MAX_WATCHES) return;
      if (w.result) this.#watches.delete(id);
    }
  }

  /** A second waiter on the same id shares the first one's outcome. */
  #chain(e: Entry, res: (s: IonosRequestStatus) => void, rej: (e: unknown) => void): void {
    const [prevRes, prevRej] = [e.resolve, e.reject];
    e.resolve = (s) => (prevRes(s), res(s));
    e.reject = (err) => (prevRej(err), rej(err));
  }

  /**
   * Wakes when the first request is due, but never sooner than the least gap after the last
   * poll: many requests in flight share each poll instead of adding polls.
   */
  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#pending.size > 0) {
        const now = this.#now();
        let firstDue = Infinity;
        for (const e of this.#pending.values()) firstDue = Math.min(firstDue, e.due);
        this.#wakeAt = Math.max(firstDue, this.#lastPoll + this.#minGap());
        const ms = Math.min(this.#wakeAt - now, this.#untilFirstDeadline());
        let nudged = false;
        const nudge = new Promise<void>((r) => this.#wake = () => (nudged = true, r()));
        await Promise.race([this.#sleep(Math.max(0, ms)), nudge]);
        this.#wake = undefined;
        this.#wakeAt = Infinity;
        this.#expire();
        if (this.#pending.size === 0) break;
        if (nudged) continue; // a new request is due sooner than planned: plan again
        try {
          await this.#poll();
        } catch (err) {
          this.#pollFailed(err);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** Moves a looked-at request's next look further out. */
  #reschedule(e: Entry): void {
    e.interval = Math.min(this.#maxPollMs, Math.ceil(e.interval * 1.5));
    e.due = this.#now() + e.interval;
  }

  #untilFirstDeadline(): number {
    let first = Infinity;
    for (const e of this.#pending.values()) first = Math.min(first, e.deadline);
    return Math.max(0, first - this.#now());
  }

  #expire(): void {
    const now = this.#now();
    for (const e of [...this.#pending.values()]) {
      if (now < e.deadline) continue;
      this.#pending.delete(e.id);
      e.reject(new IonosRequestTimeoutError(e.id, now - e.started, e.last));
    }
  }

  async #poll(): Promise<void> {
    this.#lastPoll = this.#now();
    const entries = [...this.#pending.values()];
    if (!this.#listing || entries.length < this.#listThreshold) {
      // One by one: only those due, each on its own backoff.
      const due = entries.filter((e) => e.due <= this.#lastPoll).slice(0, this.#maxFallback);
      await Promise.all(due.map((e) => this.#pollOne(e)));
      return;
    }
    // Before the call: should the listing fail, the next one still waits its turn.
    for (const e of entries) this.#reschedule(e);
    const found = await this.#list(entries);
    const missed: Entry[] = [];
    for (const e of entries) {
      const status = found.get(e.id);
      if (status) {
        e.misses = 0;
        this.#learn(e, status);
      } else if (++e.misses >= 2) missed.push(e);
    }
    await Promise.all(missed.slice(0, this.#maxFallback).map((e) => this.#pollOne(e)));
  }

  /** Reads listing pages, newest first, until every entry was seen or the pages run out. */
  async #list(entries: Entry[]): Promise<Map<string, Partial<IonosRequestStatus>>> {
    const wanted = new Set(entries.map((e) => e.id));
    const found = new Map<string, Partial<IonosRequestStatus>>();
    let oldest = Infinity;
    for (const e of entries) oldest = Math.min(oldest, e.after);
    const createdAfter = formatRequestDate(oldest);
    for (let page = 0; page < this.#maxPages && found.size < wanted.size; page++) {
      this.#onPoll?.("list");
      const items = await this.#source.listRequests({
        createdAfter,
        offset: page * this.#pageSize,
        limit: this.#pageSize,
      });
      for (const item of items) {
        const status = item.metadata?.requestStatus;
        if (wanted.has(item.id) && status?.metadata?.status) found.set(item.id, status);
      }
      if (items.length < this.#pageSize) break;
    }
    return found;
  }

  async #pollOne(e: Entry): Promise<void> {
    this.#onPoll?.("status");
    this.#reschedule(e);
    try {
      this.#learn(e, await this.#source.getRequestStatus(e.id));
    } catch (err) {
      // The client already retried what was retryable: this request's wait ends here.
      this.#pending.delete(e.id);
      e.reject(err);
    }
  }

  #learn(e: Entry, status: Partial<IonosRequestStatus>): void {
    const state = status.metadata?.status;
    e.last = state ?? e.last;
    if (state !== "DONE" && state !== "FAILED") return;
    this.#pending.delete(e.id);
    e.resolve(status as IonosRequestStatus);
  }

  /** A listing failed: fall back for good if the API has none, give up on fatal errors. */
  #pollFailed(err: unknown): void {
    if (err instanceof IonosApiError && NO_LISTING.has(err.status)) {
      this.#listing = false;
      this.#log.warn("ionos request listing unavailable; polling each request", {
        status: err.status,
      });
      return;
    }
    if (err instanceof IonosError && err.retryable) {
      this.#log.warn("ionos request listing failed; trying again", { error: err.message });
      return;
    }
    for (const e of this.#pending.values()) e.reject(err);
    this.#pending.clear();
  }
}

/** `yyyy-MM-dd HH:mm:ss` in UTC, the format of `filter.createdAfter`. */
export function formatRequestDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}
