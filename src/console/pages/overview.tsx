/**
 * Overview: queue counts, pause state, IONOS health, intake rate and rate-limit budget over the
 * last hour, and the newest failed jobs.
 */
import type { FC } from "hono/jsx";
import { type JobSummary, listJobs } from "../../ops/queues/jobs.ts";
import type { IonosHealthReport } from "../../metrics/ionos_health.ts";
import { readStatus, type Status } from "../../ops/queues/status.ts";
import { type ActivityMinute, readActivity } from "../activity.ts";
import { BudgetChart, budgetUsed, IntakeChart } from "../chart.tsx";
import type { ConsoleDeps } from "../deps.ts";
import { Badge, Csrf, When } from "../layout.tsx";

export interface OverviewData {
  status: Status;
  failed: JobSummary[];
  hour: ActivityMinute[];
  ionos?: IonosHealthReport;
}

/** Reads everything the overview shows. */
export async function loadOverview(deps: ConsoleDeps): Promise<OverviewData> {
  const [status, failed, hour] = await Promise.all([
    readStatus(deps.queue, deps.records, deps.eventLog, deps.reconcileQueue),
    listJobs(deps.queue, { state: "failed", limit: 5 }),
    readActivity(deps.redis, deps.prefix, 60),
  ]);
  return { status, failed, hour, ...(deps.ionosHealth ? { ionos: deps.ionosHealth() } : {}) };
}

const Card: FC<{ n: number | string; label: string; bad?: boolean; id: string }> = (p) => (
  <div class={p.bad ? "card bad" : "card"} data-testid={p.id}>
    <div class={p.bad ? "n bad" : "n"}>{p.n}</div>
    <div class="l">{p.label}</div>
  </div>
);

export const OverviewPage: FC<{ data: OverviewData; csrf: string; readOnly: boolean }> = (
  { data, csrf, readOnly },
) => {
  const { status, failed, hour, ionos } = data;
  const j = status.jobs;
  const last15 = hour.slice(-15);
  const events15 = last15.reduce((s, m) => s + m.events, 0);
  const calls60 = hour.reduce((s, m) => s + m.ionosCalls, 0);
  const shares = hour.map(budgetUsed).filter((v): v is number => v !== undefined);
  const peak = shares.length ? +(100 * Math.max(...shares)).toPrecision(2) : undefined;
  const limit = [...hour].reverse().find((m) => m.limitPerMinute)?.limitPerMinute;
  return (
    <>
      <div class="cards">
        <Card id="count-failed" n={j.failed} label="failed jobs" bad={j.failed > 0} />
        <Card id="count-waiting" n={j.waiting} label="waiting" />
        <Card id="count-active" n={j.active} label="active" />
        <Card id="count-delayed" n={j.delayed} label="delayed (retry later)" />
        <Card id="count-users" n={status.managed.users} label="managed IONOS users" />
        <Card id="count-groups" n={status.managed.groups} label="managed IONOS groups" />
      </div>

      <div class="grid2">
        <section>
          <h2>Processing</h2>
          <p data-testid="pause-state">
            {status.queuePaused
              ? <strong class="bad">Paused: workers take no sync jobs.</strong>
              : <span class="ok">Running.</span>}
          </p>
          {!readOnly && (
            <form
              method="post"
              action={status.queuePaused ? "/admin/queue/resume" : "/admin/queue/pause"}
              class="inline"
            >
              <Csrf token={csrf} />
              <button type="submit" class={status.queuePaused ? "" : "secondary"}>
                {status.queuePaused ? "Resume processing" : "Pause processing"}
              </button>
            </form>
          )}
          <p class="muted">
            Reconcile: {status.reconcile.scheduled
              ? `every ${status.reconcile.everyMinutes ?? "?"} min (${
                status.reconcile.mode ?? "?"
              }), next ${status.reconcile.next ?? "?"}`
              : "not scheduled"} · event log: {status.eventLog.entries} entries
          </p>
        </section>
        <section>
          <h2>IONOS</h2>
          {ionos
            ? (
              <p data-testid="ionos-health">
                <Badge value={ionos.status} /> {ionos.lastAnswerAt && (
                  <>
                    last answer <When at={ionos.lastAnswerAt} />
                  </>
                )}
                {ionos.lastFailure && (
                  <span class="bad">
                    {` · last failure: ${ionos.lastFailure} (`}
                    <When at={ionos.lastFailureAt} />)
                  </span>
                )}
              </p>
            )
            : (
              <p class="muted" data-testid="ionos-health">
                This process makes no IONOS calls (role api); see a worker's /readyz.
              </p>
            )}
          <p class="muted">
            {calls60} calls in the last hour{limit ? `, limit ${limit}/min` : ""}
            {peak !== undefined ? `, busiest minute ${peak}% of the budget` : ""}
          </p>
        </section>
      </div>

      <h2>IONOS rate-limit budget used, last hour</h2>
      <div class="chartbox">
        <BudgetChart minutes={hour} />
      </div>
      <h2>Intake: {events15} events in the last 15 minutes</h2>
      <div class="chartbox">
        <IntakeChart minutes={hour} />
      </div>

      <h2>
        Newest failed jobs {j.failed > 0 && <a href="/admin/failures">(all {j.failed})</a>}
      </h2>
      {failed.length === 0 ? <p class="ok">No failed jobs.</p> : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Job</th>
                <th>Entity</th>
                <th>Failed</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {failed.map((f) => (
                <tr>
                  <td class="mono">{f.id}</td>
                  <td>
                    <a href={`/admin/accounts/${encodeURIComponent(f.entity)}`}>{f.entity}</a>
                  </td>
                  <td>
                    <When at={f.finishedAt} />
                  </td>
                  <td class="bad">{f.lastError}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
};
