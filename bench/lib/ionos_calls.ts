/**
 * Sorts the simulator's call log into the kinds of IONOS call the sync makes, so a run can be
 * compared with the fewest calls its changes need.
 */
import type { CallRecord } from "../../src/targets/ionos/simulator/mod.ts";

export type CallKind =
  | "user create"
  | "group create"
  | "member add"
  | "member remove"
  | "update"
  | "delete"
  | "request poll"
  | "request listing"
  | "user lookup by email"
  | "group listing"
  | "group read"
  | "member listing"
  | "user read"
  | "other";

const ID = "[^/]+";
const RULES: [CallKind, string, RegExp][] = [
  ["user create", "POST", /\/um\/users$/],
  ["group create", "POST", /\/um\/groups$/],
  ["member add", "POST", new RegExp(`/um/groups/${ID}/users$`)],
  ["member remove", "DELETE", new RegExp(`/um/groups/${ID}/users/${ID}$`)],
  ["update", "PUT", /\/um\//],
  ["delete", "DELETE", /\/um\//],
  ["request poll", "GET", new RegExp(`/requests/${ID}/status$`)],
  ["request listing", "GET", /\/requests$/],
  ["user lookup by email", "GET", /\/um\/users$/],
  ["group listing", "GET", /\/um\/groups$/],
  ["member listing", "GET", new RegExp(`/um/groups/${ID}/users$`)],
  ["group read", "GET", new RegExp(`/um/groups/${ID}$`)],
  ["user read", "GET", new RegExp(`/um/users/${ID}$`)],
];

export function callKind(call: CallRecord): CallKind {
  for (const [kind, method, re] of RULES) {
    if (call.method === method && re.test(call.path)) return kind;
  }
  return "other";
}

/** Calls per kind, and how many were refused with 429 (bucket or injected). */
export function countCalls(log: readonly CallRecord[]): {
  byKind: Partial<Record<CallKind, number>>;
  byStatus: Record<string, number>;
  total: number;
} {
  const byKind: Partial<Record<CallKind, number>> = {};
  const byStatus: Record<string, number> = {};
  for (const c of log) {
    const k = callKind(c);
    byKind[k] = (byKind[k] ?? 0) + 1;
    byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
  }
  return { byKind, byStatus, total: log.length };
}
