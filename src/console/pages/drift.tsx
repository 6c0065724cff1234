/**
 * Drift: the newest reconcile dry-run plan (what a sync of every account would change in
 * IONOS), a button to check again and one that applies it. Both start reconcile runs on the
 * workers (src/ops/queues/scheduler.ts), as the admin API does: applying is a `fix` run, which
 * computes the plan afresh and enqueues a normal sync job per entity in it.
 *
 * Each target the mapping lists has its own runs (`?target=contabo`, IONOS by default): a run
 * compares with that cloud and enqueues on that cloud's queue; accounts there the sync does not
 * manage are listed as `unmanaged` and never touched.
 */
import type { Job } from "bullmq";
import type { FC } from "hono/jsx";
import { OpsError } from "../../ops/errors.ts";
import type { ReconcileJobData, ReconcileJobResult } from "../../ops/queues/scheduler.ts";
import type { TargetName } from "../../targets/target.ts";
import type { ConsoleDeps } from "../deps.ts";
import { Badge, Csrf, When } from "../layout.tsx";

export interface ReconcileRunView {
  id: string;
  mode: string;
  requestedBy: string;
  state: string;
  createdAt: number;
  finishedAt?: number | undefined;
  failedReason?: string | undefined;
  result?: ReconcileJobResult | undefined;
}

export interface DriftData {
  /** The target whose runs these are. */
  target: TargetName;
  /** Every target that can be reconciled here: IONOS and the others the mapping lists. */
  targets: TargetName[];
  runs: ReconcileRunView[];
  /** The newest finished dry run (report mode), whose plan is shown. */
  plan?: ReconcileRunView | undefined;
  /** A run still waiting or active. */
  pending: boolean;
}

const STATES = ["active", "waiting", "delayed", "completed", "failed"] as const;

const CLOUD_NAMES: Record<TargetName, string> = {
  ionos: "IONOS",
  contabo: "Contabo",
  cloudflare: "Cloudflare",
};

/**
 * The target a drift request names: IONOS when none, else one the mapping lists.
 * @throws {OpsError} invalid for any other
 */
export function driftTarget(deps: ConsoleDeps, name: string | undefined): TargetName {
  if (!name || name === "ionos") return "ionos";
  const found = (deps.targets ?? []).find((t) => t.target === name);
  if (!found) throw new OpsError("invalid", `no target "${name}" in the mapping's targets`);
  return found.target;
}

/** The newest reconcile runs of `target`, newest first. */
export async function loadDrift(
  deps: ConsoleDeps,
  target: TargetName = "ionos",
): Promise<DriftData> {
  const jobs = await deps.reconcileQueue.getJobs([...STATES], 0, 99, false);
  const runs = await Promise.all(
    jobs.filter((j): j is Job<ReconcileJobData> => !!j && (j.data.target ?? "ionos") === target)
      .map(view),
  );
  runs.sort((a, b) => b.createdAt - a.createdAt);
  const plan = runs.find((r) => r.state === "completed" && r.result?.dryRun);
  return {
    target,
    targets: ["ionos", ...(deps.targets ?? []).map((t) => t.target)],
    runs: runs.slice(0, 10),
    plan,
    pending: runs.some((r) => ["active", "waiting", "delayed"].includes(r.state)),
  };
}

async function view(job: Job<ReconcileJobData>): Promise<ReconcileRunView> {
  const result = job.returnvalue as ReconcileJobResult | null;
  return {
    id: String(job.id),
    mode: job.data.mode,
    requestedBy: job.data.requestedBy,
    state: await job.getState(),
    createdAt: job.timestamp,
    finishedAt: job.finishedOn || undefined,
    failedReason: job.failedReason || undefined,
    result: result ?? undefined,
  };
}

export const DriftPage: FC<{ data: DriftData; csrf: string; readOnly: boolean }> = (
  { data, csrf, readOnly },
) => {
  const plan = data.plan?.result;
  const changes = plan ? plan.items.length : 0;
  const cloud = CLOUD_NAMES[data.target];
  const scanned = plan
    ? "ionosUsers" in plan.scanned ? plan.scanned.ionosUsers : plan.scanned.targetUsers
    : 0;
  // Posts name the target only when it is not IONOS, as the forms always did.
  const targetField = data.target === "ionos"
    ? null
    : <input type="hidden" name="target" value={data.target} />;
  return (
    <>
      {data.targets.length > 1 && (
        <nav class="inline" data-testid="drift-targets">
          {data.targets.map((t, i) => (
            <span key={t}>
              {i > 0 && " · "}
              {t === data.target
                ? <strong>{CLOUD_NAMES[t]}</strong>
                : <a href={`/admin/drift?target=${t}`}>{CLOUD_NAMES[t]}</a>}
            </span>
          ))}
        </nav>
      )}
      <p>
        A dry run compares the wanted state with {cloud}{" "}
        and lists what a sync would change; it runs on the workers, which hold the {cloud}{" "}
        credentials.
        {data.pending && <strong class="warn">A run is in progress: reload in a moment.</strong>}
      </p>
      {!readOnly && (
        <form method="post" action="/admin/drift/check" class="inline">
          <Csrf token={csrf} />
          {targetField}
          <button type="submit" class="secondary">Check for drift now</button>
        </form>
      )}

      <h2>Plan</h2>
      {!plan ? <p class="muted" data-testid="plan">No dry run has finished yet.</p> : (
        <>
          <p data-testid="plan">
            From the dry run of <When at={plan.finishedAt} />: {changes === 0
              ? <strong class="ok">no drift.</strong>
              : <strong class="warn">{changes} change{changes === 1 ? "" : "s"}</strong>}{" "}
            <span class="muted">
              (scanned {plan.scanned.wantedUsers} wanted users, {scanned} {cloud} users)
            </span>
          </p>
          {changes > 0 && (
            <>
              <div class="scroll">
                <table data-testid="plan-items">
                  <thead>
                    <tr>
                      <th>Action</th>
                      <th>Account</th>
                      <th>Detail</th>
                    </tr>
                  </thead>
                  <tbody>
                    {plan.items.map((item) => (
                      <tr>
                        <td>
                          <Badge value={item.action} />
                        </td>
                        <td>
                          {item.entity
                            ? (
                              <a href={`/admin/accounts/${encodeURIComponent(item.entity)}`}>
                                {item.label}
                              </a>
                            )
                            : item.label}
                        </td>
                        <td>{item.detail}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {plan.itemsTruncated && <p class="muted">Only the first items are shown.</p>}
              {!readOnly && (
                <form method="post" action="/admin/drift/apply" class="inline">
                  <Csrf token={csrf} />
                  {targetField}
                  <p>
                    Applying starts a fix run: it computes the plan again (things may have changed
                    since) and syncs each account in it, exactly as an IdP event would.
                  </p>
                  <button type="submit">Apply the plan</button>
                </form>
              )}
            </>
          )}
        </>
      )}

      <h2>Recent runs</h2>
      {data.runs.length === 0 ? <p class="muted">No reconcile runs kept.</p> : (
        <div class="scroll">
          <table data-testid="runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Mode</th>
                <th>State</th>
                <th>Asked by</th>
                <th>Started</th>
                <th>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {data.runs.map((r) => (
                <tr>
                  <td class="mono">{r.id}</td>
                  <td>{r.mode}</td>
                  <td>
                    <Badge value={r.state} />
                  </td>
                  <td>{r.requestedBy}</td>
                  <td>
                    <When at={r.createdAt} />
                  </td>
                  <td class={r.failedReason ? "bad" : ""}>
                    {r.failedReason ??
                      (r.result
                        ? `${r.result.items.length} changes${
                          r.result.dryRun ? "" : `, ${r.result.enqueuedCount} syncs enqueued`
                        }`
                        : "")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
};
