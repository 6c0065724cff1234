/**
 * One account: what the IdP wants beside the IONOS twin, then one timeline, newest first, of
 * its events, its sync jobs with the IONOS outcome each one had, and operator actions; all
 * from `whois` (src/ops/whois.ts). A failed job has its retry button right there.
 */
import type { FC } from "hono/jsx";
import type { JobSummary } from "../../ops/queues/jobs.ts";
import type { EventSummary, WhoisReport } from "../../ops/whois.ts";
import type { AuditEntry } from "../../ops/oplog/audit_log.ts";
import type { WantedGroup, WantedUser } from "../../store/wanted_state.ts";
import { Badge, Csrf, When } from "../layout.tsx";
import { wantedText } from "./accounts.tsx";

type Item =
  | { kind: "event"; at: string; event: EventSummary }
  | { kind: "job"; at: string; job: JobSummary }
  | { kind: "audit"; at: string; audit: AuditEntry };

/** Events, jobs and operator actions in one list, newest first. */
export function timeline(report: WhoisReport): Item[] {
  const items: Item[] = [
    ...report.events.map((event) => ({ kind: "event" as const, at: event.receivedAt, event })),
    ...report.jobs.map((job) => ({
      kind: "job" as const,
      at: job.finishedAt ?? job.startedAt ?? job.createdAt,
      job,
    })),
    ...report.audit.map((audit) => ({ kind: "audit" as const, at: audit.at, audit })),
  ];
  return items.sort((a, b) => b.at.localeCompare(a.at));
}

const JobItem: FC<{ job: JobSummary; csrf: string; readOnly: boolean; back: string }> = (
  { job, csrf, readOnly, back },
) => (
  <li class={job.state === "failed" ? "job fail" : "job"} data-testid={`job-${job.id}`}>
    <When at={job.finishedAt ?? job.startedAt ?? job.createdAt} />
    Sync job <span class="mono">{job.id}</span> <Badge value={job.state} />{" "}
    <span class="muted">attempt {job.attempts} of {job.maxAttempts}</span>
    {job.result && <div class="ok">done: {job.result}</div>}
    {job.lastError && <div class="bad">{job.lastError}</div>}
    {job.runAt && <div class="muted">next attempt at {job.runAt}</div>}
    {job.state === "failed" && !readOnly && (
      <form method="post" action={`/admin/jobs/${encodeURIComponent(job.id)}/retry`} class="inline">
        <Csrf token={csrf} />
        <input type="hidden" name="next" value={back} />
        <button type="submit">Retry</button>
      </form>
    )}
  </li>
);

export const AccountPage: FC<{ report: WhoisReport; csrf: string; readOnly: boolean }> = (
  { report, csrf, readOnly },
) => {
  const w = report.wanted as (WantedUser & WantedGroup) | undefined;
  const back = `/admin/accounts/${encodeURIComponent(report.entity)}`;
  const items = timeline(report);
  return (
    <>
      <div class="grid2">
        <section class="card">
          <h2>Wanted (identity provider)</h2>
          {w
            ? (
              <p>
                <strong>{w.email ?? w.displayName}</strong> <Badge value={wantedText(w)} />
                <br />
                <span class="muted">
                  {[w.firstName, w.lastName].filter(Boolean).join(" ")} · changed <When at={w.t} />
                </span>
              </p>
            )
            : <p class="muted">Not in the wanted state.</p>}
          {report.groups && (
            <p>
              Groups: {report.groups.length === 0
                ? <span class="muted">none</span>
                : report.groups.map((g, i) => (
                  <>
                    {i > 0 && ", "}
                    <a href={`/admin/accounts/${encodeURIComponent(`group:${g.id}`)}`}>
                      {g.name ?? g.id}
                    </a>
                    {g.deleted && " (deleted)"}
                  </>
                ))}
            </p>
          )}
          {report.memberCount !== undefined && <p>{report.memberCount} members</p>}
        </section>
        <section class="card">
          <h2>IONOS twin</h2>
          {report.twin
            ? (
              <p data-testid="twin">
                <Badge value={report.twin.state} /> <span class="mono">{report.twin.ionosId}</span>
                <br />
                <span class="muted">
                  {[report.twin.origin, report.twin.label].filter(Boolean).join(" · ")}
                  {report.twin.lastSyncAt && (
                    <>
                      {" "}· last sync <When at={report.twin.lastSyncAt} />
                    </>
                  )}
                </span>
                {report.twin.lastResult && <div class="ok">{report.twin.lastResult}</div>}
                {report.twin.lastError && <div class="bad">{report.twin.lastError}</div>}
              </p>
            )
            : <p class="muted" data-testid="twin">No IONOS twin yet.</p>}
        </section>
        {Object.entries(report.targets ?? {}).map(([target, link]) => (
          <section class="card" key={target}>
            <h2>{target} twin</h2>
            <p data-testid={`twin-${target}`}>
              <Badge value={link.state} /> <span class="mono">{link.targetId}</span>
              <br />
              <span class="muted">
                {link.origin}
                {link.lastSyncAt && (
                  <>
                    {" "}· last sync <When at={link.lastSyncAt} />
                  </>
                )}
              </span>
              {link.result && <div class="ok">{link.result}</div>}
              {link.lastError && <div class="bad">{link.lastError}</div>}
            </p>
          </section>
        ))}
      </div>

      <h2>Timeline</h2>
      {items.length === 0
        ? <p class="muted">Nothing logged for this account.</p>
        : (
          <ol class="timeline" data-testid="timeline">
            {items.map((item) => {
              if (item.kind === "job") {
                return (
                  <JobItem
                    key={`job-${item.job.id}`}
                    job={item.job}
                    csrf={csrf}
                    readOnly={readOnly}
                    back={back}
                  />
                );
              }
              if (item.kind === "event") {
                const e = item.event;
                return (
                  <li key={`event-${e.logId}`} class="event">
                    <When at={e.receivedAt} />
                    Event <strong>{e.type}</strong> from {e.source}{" "}
                    <span class="muted mono">{e.eventId}</span>
                    {e.entities.length === 0 && (
                      <div class="muted">changed nothing (stale or same)</div>
                    )}
                  </li>
                );
              }
              const a = item.audit;
              return (
                <li key={`audit-${a.logId}`} class="audit">
                  <When at={a.at} />
                  Operator <strong>{a.action}</strong> by {a.actor}
                  {a.jobId && (
                    <>
                      · job <span class="mono">{a.jobId}</span>
                    </>
                  )}
                  {a.reason && <div>reason: {a.reason}</div>}
                </li>
              );
            })}
          </ol>
        )}
    </>
  );
};
