/** What a non-IONOS target's sync step needs: the wanted state, its links, its client, its queue. */
import type { Queue } from "bullmq";
import type { Mapping } from "../src/config/mapping.ts";
import type { Logger } from "../src/log.ts";
import type { TargetJobData } from "../src/queue/target_queue.ts";
import type { WantedStateStore } from "../src/store/wanted_state.ts";
import type { TargetLinks } from "../src/targets/links.ts";

export interface TargetSyncContext<Client> {
  store: WantedStateStore;
  links: TargetLinks;
  mapping: Mapping;
  client: Client;
  /** This target's own queue, for follow-up jobs. */
  queue: Queue<TargetJobData>;
  logger: Logger;
}

/** What a target step did: the job's return value, and the twin record's `result`. */
export interface TargetOutcome {
  result: string;
  targetId?: string;
  changes: string[];
}

/** The display names of the live IdP groups a user is in. */
export async function groupNamesOf(store: WantedStateStore, userId: string): Promise<string[]> {
  const ids = await store.getUserGroups(userId);
  const groups = await store.getGroups(ids);
  return [...groups.values()].filter((g) => !g.deleted).map((g) => g.displayName);
}
