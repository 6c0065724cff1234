/**
 * Request-status tracking: every UM write answers 202 with a request that goes
 * QUEUED -> RUNNING -> DONE. State is derived from elapsed time, so no timers need cleaning up.
 */
import type { IonosRequestState, IonosRequestStatus } from "../ionos/types.ts";
import type { Random } from "./random.ts";

/** What a request acted on, as listed in `metadata.targets`. */
export interface RequestTarget {
  id: string;
  type: "user" | "group";
}

interface RequestRecord {
  id: string;
  createdAt: number;
  etag: string;
  targets: RequestTarget[];
  /** True for POST creates: until DONE, the new resource is not ready for further writes. */
  creates: boolean;
}

const MESSAGES: Record<IonosRequestState, string> = {
  QUEUED: "Request has been queued",
  RUNNING: "Request is being processed",
  DONE: "Request has been successfully executed",
  FAILED: "Request has failed",
};

/** Keeps every write's request and answers its status. */
export class RequestTracker {
  #requests = new Map<string, RequestRecord>();
  /** resourceId -> id of the request that created it. */
  #creators = new Map<string, string>();

  /**
   * @param rand Source for request ids and etags.
   * @param delayMs Time from creation to DONE; the first half is QUEUED, the second RUNNING.
   * @param now Clock in ms (injectable for tests).
   */
  constructor(
    private readonly rand: Random,
    private readonly delayMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a new request and returns its id. */
  create(targets: RequestTarget[], creates = false): string {
    const id = this.rand.uuid();
    this.#requests.set(id, {
      id,
      createdAt: this.now(),
      etag: this.rand.hex(16),
      targets,
      creates,
    });
    if (creates) { for (const t of targets) this.#creators.set(t.id, id); }
    return id;
  }

  /** The state of a request now, or undefined for an unknown id. */
  state(id: string): IonosRequestState | undefined {
    const r = this.#requests.get(id);
    if (!r) return undefined;
    const elapsed = this.now() - r.createdAt;
    if (elapsed >= this.delayMs) return "DONE";
    return elapsed >= this.delayMs / 2 ? "RUNNING" : "QUEUED";
  }

  /** The request-status body, hrefs under `base` (…/cloudapi/v6). */
  status(id: string, base: string): IonosRequestStatus | undefined {
    const r = this.#requests.get(id);
    const state = this.state(id);
    if (!r || !state) return undefined;
    return {
      id,
      type: "request-status",
      href: `${base}/requests/${id}/status`,
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

  /** The id of the not-yet-DONE request that created `resourceId`, if any. */
  pendingCreate(resourceId: string): string | undefined {
    const rid = this.#creators.get(resourceId);
    if (rid === undefined) return undefined;
    if (this.state(rid) !== "DONE") return rid;
    this.#creators.delete(resourceId); // done for good: keep the map small
    return undefined;
  }

  /** Forgets all requests. */
  clear(): void {
    this.#requests.clear();
    this.#creators.clear();
  }
}
