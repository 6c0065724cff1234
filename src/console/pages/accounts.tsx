/**
 * Accounts: search by email, IdP id, `user:<id>` or IONOS id. Each row sets the wanted state
 * beside its IONOS twin record, with the sync state and the last error (the twin's, or the
 * newest failed job's).
 */
import type { FC } from "hono/jsx";
import { OpsError } from "../../ops/errors.ts";
import { iterateJobs, jobEntity } from "../../ops/queues/jobs.ts";
import { whois } from "../../ops/whois.ts";
import type { IonosTwin } from "../../targets/ionos/records.ts";
import type { EntityKey, WantedGroup, WantedUser } from "../../store/wanted_state.ts";
import type { ConsoleDeps } from "../deps.ts";
import { Badge, When } from "../layout.tsx";

export interface AccountRow {
  entity: EntityKey;
  wanted?: WantedUser | WantedGroup | undefined;
  twin?: IonosTwin | undefined;
  lastError?: string | undefined;
}

export interface AccountsData {
  query: string;
  rows: AccountRow[];
  /** More users matched than are shown. */
  more: boolean;
  total: number;
}

const PAGE = 50;
/** Failed jobs read for the "last error" column; the newest are the ones that matter. */
const FAILED_SCAN = 2000;

/**
 * The rows for a search: the entity `whois` resolves the query to (exact email, id, IONOS id),
 * then users whose email, user name or id contains it. Without a query: the first users by id.
 */
export async function loadAccounts(deps: ConsoleDeps, query: string): Promise<AccountsData> {
  const q = query.trim();
  const entities: EntityKey[] = [];
  if (q) {
    try {
      const report = await whois(deps, q);
      entities.push(report.entity);
    } catch (error) {
      if (!(error instanceof OpsError) || error.code !== "not_found") throw error;
    }
  }
  const ids = (await deps.store.listUserIds()).sort();
  const needle = q.toLowerCase();
  let matched = 0;
  for (let i = 0; i < ids.length && entities.length <= PAGE; i += 500) {
    const batch = ids.slice(i, i + 500);
    const users = q ? await deps.store.getUsers(batch) : undefined;
    for (const id of batch) {
      const u = users?.get(id);
      const hit = !q || id.toLowerCase().includes(needle) ||
        !!u?.email?.toLowerCase().includes(needle) ||
        !!u?.userName?.toLowerCase().includes(needle);
      if (!hit) continue;
      matched++;
      const key: EntityKey = `user:${id}`;
      if (!entities.includes(key) && entities.length < PAGE) entities.push(key);
    }
  }
  return {
    query: q,
    rows: await rowsFor(deps, entities),
    more: matched > entities.length,
    total: ids.length,
  };
}

async function rowsFor(deps: ConsoleDeps, entities: EntityKey[]): Promise<AccountRow[]> {
  const userIds = entities.filter((e) => e.startsWith("user:")).map((e) => e.slice(5));
  const groupIds = entities.filter((e) => e.startsWith("group:")).map((e) => e.slice(6));
  const [users, groups, userTwins, groupTwins] = await Promise.all([
    deps.store.getUsers(userIds),
    deps.store.getGroups(groupIds),
    deps.records.getMany("user", userIds),
    deps.records.getMany("group", groupIds),
  ]);
  const twins = new Map<EntityKey, IonosTwin | undefined>();
  userIds.forEach((id, i) => twins.set(`user:${id}`, userTwins[i]));
  groupIds.forEach((id, i) => twins.set(`group:${id}`, groupTwins[i]));
  const failedError = new Map<EntityKey, string>();
  let scanned = 0;
  const wantedSet = new Set(entities);
  for await (const job of iterateJobs(deps.queue, "failed")) {
    const e = jobEntity(job);
    if (wantedSet.has(e) && !failedError.has(e) && job.failedReason) {
      failedError.set(e, job.failedReason);
    }
    if (++scanned >= FAILED_SCAN) break;
  }
  return entities.map((entity) => {
    const id = entity.slice(entity.indexOf(":") + 1);
    const wanted = entity.startsWith("user:") ? users.get(id) : groups.get(id);
    const twin = twins.get(entity);
    const lastError = failedError.get(entity) ?? twin?.lastError;
    return {
      entity,
      wanted,
      twin,
      lastError: lastError || undefined,
    };
  });
}

/** What the IdP wants, in a few words. */
export function wantedText(w: WantedUser | WantedGroup | undefined): string {
  if (!w) return "unknown";
  if (w.deleted) return "deleted";
  if ("email" in w || "active" in w) return (w as WantedUser).active ? "active" : "inactive";
  return "present";
}

export const AccountsPage: FC<{ data: AccountsData }> = ({ data }) => (
  <>
    <form method="get" action="/admin/accounts" class="inline" role="search">
      <input
        type="search"
        name="q"
        value={data.query}
        placeholder="email, IdP id or IONOS id"
        aria-label="Search accounts"
        size={32}
      />
      <button type="submit">Search</button>
    </form>
    <p class="muted">
      {data.query
        ? `${data.rows.length} match${data.rows.length === 1 ? "" : "es"} for "${data.query}"${
          data.more ? " (first ones shown: narrow the search)" : ""
        }`
        : `${data.total} users; the first ${Math.min(PAGE, data.total)} by id`}
    </p>
    {data.rows.length > 0 && (
      <div class="scroll">
        <table data-testid="accounts">
          <thead>
            <tr>
              <th>Account</th>
              <th>Wanted (IdP)</th>
              <th>IONOS twin</th>
              <th>Sync state</th>
              <th>Last sync</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {data.rows.map((r) => {
              const w = r.wanted as (WantedUser & WantedGroup) | undefined;
              const name = w?.email ?? w?.displayName ?? r.entity;
              return (
                <tr>
                  <td>
                    <a href={`/admin/accounts/${encodeURIComponent(r.entity)}`}>{name}</a>
                    <div class="muted mono">{r.entity}</div>
                  </td>
                  <td>{wantedText(r.wanted)}</td>
                  <td>
                    {r.twin?.ionosId
                      ? (
                        <>
                          <span class="mono">{r.twin.ionosId}</span>
                          <div class="muted">
                            {r.twin.origin ?? ""}{" "}
                            {r.twin.label && r.twin.label !== name ? `as ${r.twin.label}` : ""}
                          </div>
                        </>
                      )
                      : <span class="muted">none</span>}
                  </td>
                  <td>
                    <Badge value={r.twin?.state} />
                  </td>
                  <td>
                    <When at={r.twin?.lastSyncAt} />
                  </td>
                  <td class="bad">{r.lastError ?? ""}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    )}
  </>
);
