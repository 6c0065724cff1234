/**
 * Shared by the issue 8 regression tests (`issue8_*.test.ts`): the issue's mapping, event
 * builders, and readers for what the spec says a conflict leaves behind (the failed job's
 * reason, the twin record in `whois`, the SCIM extension).
 */
import { expect } from "vitest";
import type { IonosGroup } from "../../src/targets/ionos/types.ts";
import type { SimUser } from "../../src/targets/ionos/simulator/mod.ts";
import { type Harness, SCIM_TOKEN, userEvent } from "../_support/harness.ts";
import { admin } from "../_support/admin.ts";

/** The mapping issue 8 was reproduced with; `extra` YAML is appended (e.g. an `adopt:` block). */
export function issue8Mapping(extra = ""): string {
  return `
administrators: ["ionos-admins"]
groups:
  include: ["ionos-*"]
protectedEmails: ["owner@example.com"]
${extra}`;
}

/** Event times in seconds relative to `base` (ms), so a test can order its events explicitly. */
export function clock(base = Date.now() - 120_000): (s: number) => string {
  return (s) => new Date(base + s * 1000).toISOString();
}

/** Posts events to `/events` (one, or a batch) and expects 202. */
export async function send(h: Harness, ...events: unknown[]): Promise<void> {
  const res = await h.postEvents(events.length === 1 ? events[0] : { events });
  expect(res.status, await res.clone().text()).toBe(202);
  await res.body?.cancel();
}

/** A user event with `active` sent explicitly (the spec's advice for order independence). */
export function user(
  type: string,
  id: string,
  email: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const active = type !== "user.deactivated";
  return userEvent(type, id, email, { active, ...extra });
}

/** `group.created` / `group.updated`, with a full member list when `members` is given. */
export function group(
  type: "group.created" | "group.updated",
  id: string,
  displayName: string,
  members?: string[],
): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    type,
    data: {
      id,
      displayName,
      ...(members ? { members: members.map((value) => ({ value })) } : {}),
    },
  };
}

/** `group.members.added` / `group.members.removed`. */
export function members(
  type: "group.members.added" | "group.members.removed",
  groupId: string,
  userIds: string[],
): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    type,
    data: { groupId, members: userIds.map((value) => ({ value })) },
  };
}

/** `user.deleted` / `group.deleted`. */
export function deleted(kind: "user" | "group", id: string): Record<string, unknown> {
  return { id: crypto.randomUUID(), type: `${kind}.deleted`, data: { id } };
}

/** Adds `time` to an event. */
export function at<T extends Record<string, unknown>>(time: string, event: T): T {
  return { ...event, time };
}

/** The IONOS user with this email (case-insensitive), as the simulator holds it. */
export function ionosUser(h: Harness, email: string): SimUser | undefined {
  return h.sim.sim.state.userByEmail(email);
}

/** IONOS groups with exactly this name. */
export function ionosGroups(h: Harness, name: string): IonosGroup[] {
  return h.sim.sim.state.groups().filter((g) => g.properties.name === name);
}

/** Emails of the members of an IONOS group, sorted. */
export function memberEmails(h: Harness, ionosGroupId: string): string[] {
  const state = h.sim.sim.state;
  return state.members(ionosGroupId).map((id) => state.user(id)!.properties.email).sort();
}

/** Everything the simulator holds about one IONOS user: properties, metadata, groups. */
export function snapshotUser(h: Harness, ionosId: string): unknown {
  const state = h.sim.sim.state;
  return { user: state.user(ionosId), groups: state.userGroups(ionosId).sort() };
}

interface JobSummary {
  id: string;
  entity: string;
  state: string;
  lastError?: string;
}

/** Failed sync jobs of one entity (`user:<id>` / `group:<id>`), from the admin API. */
export async function failedJobs(h: Harness, entity: string): Promise<JobSummary[]> {
  const res = await admin<{ jobs: JobSummary[] }>(
    h,
    "GET",
    `/jobs?state=failed&entity=${encodeURIComponent(entity)}`,
  );
  expect(res.status).toBe(200);
  return res.body.jobs;
}

/** The last failure reason of an entity's failed jobs, all joined (empty when none failed). */
export async function failureReasons(h: Harness, entity: string): Promise<string> {
  return (await failedJobs(h, entity)).map((j) => j.lastError ?? "").join("\n");
}

/** The twin record `whois` shows for an entity (`user:<id>` / `group:<id>`). */
export async function twin(h: Harness, entity: string): Promise<Record<string, string>> {
  const res = await admin<{ twin?: Record<string, string> }>(
    h,
    "GET",
    `/whois/${encodeURIComponent(entity)}`,
  );
  expect(res.status).toBe(200);
  return res.body.twin ?? {};
}

/** Calls the SCIM API of the running service; returns status and parsed body. */
export async function scim(
  h: Harness,
  method: string,
  path: string,
  body?: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.url}/scim/v2${path}`, {
    method,
    headers: {
      authorization: `Bearer ${SCIM_TOKEN}`,
      ...(body !== undefined ? { "content-type": "application/scim+json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A SCIM user body with `emails[0]` as the primary address. */
export function scimUser(userName: string, email: string): Record<string, unknown> {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName,
    name: { givenName: "Given", familyName: "Family" },
    emails: [{ primary: true, value: email, type: "work" }],
    active: true,
  };
}

export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const IONOS_USER_SCHEMA = "urn:ionos:sync:2.0:User";
