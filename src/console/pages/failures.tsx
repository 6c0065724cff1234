/**
 * Failures: every failed sync job with its last error; retry one or all, or discard one with a
 * reason, which goes to the audit log (src/ops/queues/jobs.ts `discardJob`).
 */
import type { FC } from "hono/jsx";
import { type JobSummary, listJobs } from "../../ops/queues/jobs.ts";
import type { ConsoleDeps } from "../deps.ts";
import { Csrf, When } from "../layout.tsx";

const LIMIT = 100;

export async function loadFailures(deps: ConsoleDeps): Promise<JobSummary[]> {
  return await listJobs(deps.queue, { state: "failed", limit: LIMIT });
}

export const FailuresPage: FC<{ jobs: JobSummary[]; csrf: string; readOnly: boolean }> = (
  { jobs, csrf, readOnly },
) => (
  <>
    {jobs.length === 0 ? <p class="ok" data-testid="no-failures">No failed jobs.</p> : (
      <>
        <p>
          {jobs.length === LIMIT ? `The newest ${LIMIT} failed jobs.` : `${jobs.length} failed.`}
          {" "}
          Retry enqueues one fresh sync per account (the worker reads the newest wanted state);
          discard removes the job and keeps the reason in the audit log.
        </p>
        {!readOnly && (
          <form method="post" action="/admin/jobs/retry-all" class="inline">
            <Csrf token={csrf} />
            <button type="submit">Retry all failed</button>
          </form>
        )}
        <div class="scroll" style="margin-top:.6rem">
          <table data-testid="failures">
            <thead>
              <tr>
                <th>Job</th>
                <th>Account</th>
                <th>Failed</th>
                <th>Last error</th>
                {!readOnly && <th>Action</th>}
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr data-testid={`failed-${j.id}`}>
                  <td class="mono">{j.id}</td>
                  <td>
                    <a href={`/admin/accounts/${encodeURIComponent(j.entity)}`}>{j.entity}</a>
                  </td>
                  <td>
                    <When at={j.finishedAt} />
                    <div class="muted">{j.attempts} attempts</div>
                  </td>
                  <td class="bad">{j.lastError}</td>
                  {!readOnly && (
                    <td>
                      <form
                        method="post"
                        action={`/admin/jobs/${encodeURIComponent(j.id)}/retry`}
                        class="inline"
                      >
                        <Csrf token={csrf} />
                        <input type="hidden" name="next" value="/admin/failures" />
                        <button type="submit">Retry</button>
                      </form>
                      <form
                        method="post"
                        action={`/admin/jobs/${encodeURIComponent(j.id)}/discard`}
                        class="inline"
                        style="margin-top:.3rem"
                      >
                        <Csrf token={csrf} />
                        <input
                          type="text"
                          name="reason"
                          required
                          maxlength={500}
                          placeholder="reason"
                          aria-label={`Reason to discard job ${j.id}`}
                          size={14}
                        />
                        <button type="submit" class="danger">Discard</button>
                      </form>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </>
    )}
  </>
);
