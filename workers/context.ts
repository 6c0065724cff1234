/** What a sync step needs: the stores, the mapping, the IONOS client and the queue. */
import type { Queue } from "bullmq";
import type { Mapping } from "../src/config/mapping.ts";
import type { IonosClient } from "../src/targets/ionos/client.ts";
import type { PendingWrites } from "../src/targets/ionos/pending_writes.ts";
import type { Logger } from "../src/log.ts";
import type { AfterDone, InterruptedUpdate, SyncJobData } from "../src/queue/sync_queue.ts";
import type { OwnerBindings } from "../src/store/owner_bindings.ts";
import type { IonosRecords } from "../src/targets/ionos/records.ts";
import type { WantedStateStore } from "../src/store/wanted_state.ts";
import type { UserLookup } from "./user_lookup.ts";

export interface SyncContext {
  store: WantedStateStore;
  records: IonosRecords;
  /** Which IdP user may hold an IONOS account with an email (one account, one owner). */
  emailOwners: OwnerBindings;
  /** Which IdP group may hold an IONOS group with a name (one group, one owner). */
  groupNameOwners: OwnerBindings;
  mapping: Mapping;
  ionos: IonosClient;
  /** For follow-up jobs (a new user's memberships, an admin group's members). */
  queue: Queue<SyncJobData>;
  logger: Logger;
  /**
   * Set by the worker for one run: `ionos` then answers writes at 202 and collects their
   * requests here, and the job gives its slot back while they run (./request_steps.ts). Unset,
   * every write waits for DONE in the call, as ops paths and direct callers expect.
   */
  writes?: PendingWrites;
  /** Email lookups shared by the jobs of this process (./user_lookup.ts); unset: one by one. */
  userLookup?: UserLookup;
  /** Outcomes of requests an earlier run of this job waited for, by request id. */
  settledRequests?: ReadonlyMap<string, "DONE" | "FAILED">;
  /** IONOS ids that a write of an earlier run of this job reached DONE on. */
  doneWrites?: ReadonlySet<string>;
  /** The rest of an update the previous run stopped before (see `InterruptedUpdate`). */
  interrupted?: InterruptedUpdate;
}

/** What a sync step did, kept as the job's return value and shown to operators. */
export interface SyncOutcome {
  result: string;
  ionosId?: string;
  changes?: string[];
  /** Left for the worker to do once this run's writes are DONE (not shown to operators). */
  afterDone?: AfterDone | undefined;
}
