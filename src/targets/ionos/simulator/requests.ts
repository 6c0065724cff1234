/**
 * The contract's requests: every UM write answers 202 with a request that goes QUEUED ->
 * RUNNING -> DONE, or FAILED. Each request draws its duration (and whether it fails) from the
 * timing in force when it was made; its state is derived from elapsed time, so no timers need
 * cleaning up. A FAILED request's write is undone when the failure is due, as IONOS does not
 * apply a failed request.
 */
import type { IonosRequestState, IonosRequestStatus } from "../types.ts";
import { type RequestTiming, sampleDuration, TIMING_PROFILES } from "./duration.ts";
import type { Random } from "../../simulator/random.ts";

/** What a request acted on, as listed in `metadata.targets`. */
export interface RequestTarget {
  id: string;
  type: "user" | "group";
}

/** What the HTTP call that made a request looked like (`properties` of a Request). */
export interface RequestCall {
  method: string;
  url: string;
  /** Headers worth showing; never Authorization. */
  headers: Record<string, string>;
  /** The body as sent, with any password already replaced. */
  body: string;
}

/** One request as the simulator keeps it. */
export interface RequestRecord {
  id: string;
  createdAt: number;
  /** Time from creation to DONE or FAILED. */
  durationMs: number;
  fails: boolean;
  etag: string;
  createdBy: string;
  targets: RequestTarget[];
  /** True for POST creates: until DONE, the new resource is not ready for further writes. */
  creates: boolean;
  call: RequestCall;
}

/** Options of {@linkcode RequestTracker.create}. */
export interface CreateRequest {
  targets: RequestTarget[];
  call: RequestCall;
  /** @default false */
  creates?: boolean;
  /** Reverts the write if the request ends FAILED. */
  undo?: (() => void) | undefined;
}

const MESSAGES: Record<IonosRequestState, string> = {
  QUEUED: "Request has been queued",
  RUNNING: "Request is being processed",
  DONE: "Request has been successfully executed",
  FAILED: "Request has failed: simulated backend error",
};

/** Keeps every write's request and answers its status. */
export class RequestTracker {
  #requests = new Map<string, RequestRecord>();
  /** resourceId -> id of the request that created it. */
  #creators = new Map<string, string>();
  /** Failing requests whose write is not undone yet. Few (failRate is small): a list will do. */
  #undos: { record: RequestRecord; undo: () => void }[] = [];

  /**
   * @param rand Source for request ids and etags.
   * @param dice Source for durations and failures, apart from `rand` so that timing does not
   *   shift generated ids.
   * @param timing Distribution in force; change it with {@linkcode timing}.
   * @param actor Shown as `createdBy`.
   * @param now Clock in ms (injectable for tests).
   */
  constructor(
    private readonly rand: Random,
    private readonly dice: Random,
    public timing: RequestTiming = TIMING_PROFILES.fast,
    private readonly actor = "sim@example.com",
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a new request and returns its id. */
  create(input: CreateRequest): string {
    const { targets, call, creates = false, undo } = input;
    const id = this.rand.uuid();
    const fails = this.timing.failRate > 0 && this.dice.next() < this.timing.failRate;
    const record: RequestRecord = {
      id,
      createdAt: this.now(),
      durationMs: Math.round(sampleDuration(this.timing.duration, this.dice)),
      fails,
      etag: this.rand.hex(16),
      createdBy: this.actor,
      targets,
      creates,
      call,
    };
    this.#requests.set(id, record);
    if (creates) { for (const t of targets) this.#creators.set(t.id, id); }
    if (fails && undo) this.#undos.push({ record, undo });
    return id;
  }

  /** Undoes the writes of requests that have FAILED by now. Call before reading state. */
  settle(): void {
    if (this.#undos.length === 0) return;
    const t = this.now();
    const due = this.#undos.filter(({ record }) => t - record.createdAt >= record.durationMs);
    if (due.length === 0) return;
    this.#undos = this.#undos.filter((u) => !due.includes(u));
    // Newest first: undoing in reverse order of the writes restores what each one saw.
    for (const { undo } of due.reverse()) {
      try {
        undo();
      } catch {
        // A later write already changed the resource (e.g. deleted it): nothing left to undo.
      }
    }
  }

  /** The request, or undefined for an unknown id. */
  get(id: string): RequestRecord | undefined {
    return this.#requests.get(id);
  }

  /** Every request, newest first (as `GET /requests` lists them). */
  newestFirst(): RequestRecord[] {
    return [...this.#requests.values()].reverse();
  }

  /** The state of a request now, or undefined for an unknown id. */
  state(id: string): IonosRequestState | undefined {
    const r = this.#requests.get(id);
    return r && this.stateOf(r);
  }

  /** The state of `r` now: the first half of its duration QUEUED, the second RUNNING. */
  stateOf(r: RequestRecord): IonosRequestState {
    const elapsed = this.now() - r.createdAt;
    if (elapsed >= r.durationMs) return r.fails ? "FAILED" : "DONE";
    return elapsed >= r.durationMs / 2 ? "RUNNING" : "QUEUED";
  }

  /** The request-status body, hrefs under `base` (…/cloudapi/v6). */
  status(id: string, base: string): IonosRequestStatus | undefined {
    const r = this.#requests.get(id);
    return r && this.statusOf(r, base);
  }

  /** The request-status body of `r`. */
  statusOf(r: RequestRecord, base: string): IonosRequestStatus {
    const state = this.stateOf(r);
    return {
      id: r.id,
      type: "request-status",
      href: `${base}/requests/${r.id}/status`,
      metadata: {
        status: state,
        message: MESSAGES[state],
        etag: r.etag,
        targets: r.targets.map((t) => ({
          target: { id: t.id, type: t.type, href: `${base}/um/${t.type}s/${t.id}` },
          status: state,
        })),
      },
    };
  }

  /** The id of the not-yet-finished request that created `resourceId`, if any. */
  pendingCreate(resourceId: string): string | undefined {
    const rid = this.#creators.get(resourceId);
    if (rid === undefined) return undefined;
    const state = this.state(rid);
    if (state !== "DONE" && state !== "FAILED") return rid;
    this.#creators.delete(resourceId); // finished for good: keep the map small
    return undefined;
  }

  /** Forgets all requests. */
  clear(): void {
    this.#requests.clear();
    this.#creators.clear();
    this.#undos = [];
  }
}
