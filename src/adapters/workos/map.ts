/**
 * WorkOS Directory Sync events -> SyncEvents. WorkOS ids (`directory_user_...`,
 * `directory_group_...`) are the IdP ids. Deliveries are retried for days and arrive in any
 * order, so every event is an upsert stamped with the event's `created_at`, and the event id
 * (`workos-<event id>`) de-duplicates retries.
 */
import { z } from "zod";
import { SyncEvent } from "../../events/event.ts";
import { fieldIssues } from "../../intake/errors.ts";
import type { MapResult } from "../webhook_route.ts";

const text = z.string().max(1024);

/** A directory user as WorkOS sends it; only what we read is checked. */
const DirectoryUser = z.looseObject({
  id: z.string().min(1).max(256),
  idp_id: text.nullish(),
  username: text.nullish(),
  email: text.nullish(),
  emails: z.array(z.looseObject({
    value: text,
    primary: z.boolean().nullish(),
    type: text.nullish(),
  })).max(100).nullish(),
  first_name: text.nullish(),
  last_name: text.nullish(),
  /** "active", "inactive" (and the retired "suspended"). */
  state: text.nullish(),
});
type DirectoryUser = z.infer<typeof DirectoryUser>;

const DirectoryGroup = z.looseObject({
  id: z.string().min(1).max(256),
  idp_id: text.nullish(),
  name: z.string().min(1).max(1024),
});

const Envelope = z.looseObject({
  id: z.string().min(1).max(200),
  event: z.string().min(1).max(200),
  data: z.unknown(),
  created_at: z.string().optional(),
});

const Membership = z.looseObject({ user: DirectoryUser, group: DirectoryGroup });

/** The user in event-model form; `active` follows WorkOS' `state`. */
function userData(u: DirectoryUser): Record<string, unknown> {
  const emails: { value: string; primary?: boolean; type?: string | undefined }[] = (u.emails ?? [])
    .map((e) => ({
      value: e.value,
      ...(typeof e.primary === "boolean" ? { primary: e.primary } : {}),
      type: e.type || undefined,
    }));
  if (emails.length === 0 && u.email) emails.push({ value: u.email, primary: true });
  return {
    id: u.id,
    userName: u.username ?? u.email ?? undefined,
    externalId: u.idp_id || undefined,
    name: { givenName: u.first_name ?? null, familyName: u.last_name ?? null },
    emails,
    active: u.state === "active",
  };
}

function issueText(error: z.ZodError): string {
  return fieldIssues(error).slice(0, 5).map((i) => `${i.path}: ${i.message}`).join("; ");
}

/**
 * Maps one WorkOS webhook payload.
 *
 * @example
 * mapWorkosEvent({ id: "event_01", event: "dsync.user.deleted", data: { id: "directory_user_01" } })
 * // { kind: "events", events: [{ id: "workos-event_01", type: "user.deleted", ... }] }
 */
export function mapWorkosEvent(payload: unknown): MapResult {
  const envelope = Envelope.safeParse(payload);
  if (!envelope.success) return { kind: "invalid", detail: issueText(envelope.error) };
  const { id, event, data, created_at } = envelope.data;
  const base = {
    id: `workos-${id}`,
    ...(created_at && !Number.isNaN(Date.parse(created_at)) ? { time: created_at } : {}),
  };
  let candidate: Record<string, unknown>;
  switch (event) {
    case "dsync.user.created":
    case "dsync.user.updated": {
      const u = DirectoryUser.safeParse(data);
      if (!u.success) return { kind: "invalid", detail: `data.${issueText(u.error)}` };
      const user = userData(u.data);
      const type = event === "dsync.user.created"
        ? "user.created"
        : user.active
        ? "user.updated"
        : "user.deactivated";
      candidate = { ...base, type, data: user };
      break;
    }
    case "dsync.user.deleted":
    case "dsync.group.deleted": {
      const d = z.looseObject({ id: z.string().min(1).max(256) }).safeParse(data);
      if (!d.success) return { kind: "invalid", detail: `data.${issueText(d.error)}` };
      const type = event === "dsync.user.deleted" ? "user.deleted" : "group.deleted";
      candidate = { ...base, type, data: { id: d.data.id } };
      break;
    }
    case "dsync.group.created":
    case "dsync.group.updated": {
      const g = DirectoryGroup.safeParse(data);
      if (!g.success) return { kind: "invalid", detail: `data.${issueText(g.error)}` };
      candidate = {
        ...base,
        type: event === "dsync.group.created" ? "group.created" : "group.updated",
        // No member list: WorkOS reports membership with user_added / user_removed.
        data: {
          id: g.data.id,
          displayName: g.data.name,
          externalId: g.data.idp_id || undefined,
        },
      };
      break;
    }
    case "dsync.group.user_added":
    case "dsync.group.user_removed": {
      const m = Membership.safeParse(data);
      if (!m.success) return { kind: "invalid", detail: `data.${issueText(m.error)}` };
      const email = m.data.user.email ?? m.data.user.emails?.find((e) => e.primary)?.value;
      candidate = {
        ...base,
        type: event === "dsync.group.user_added" ? "group.members.added" : "group.members.removed",
        data: {
          groupId: m.data.group.id,
          members: [{ value: m.data.user.id, display: email || undefined }],
        },
      };
      break;
    }
    default:
      return { kind: "ignored", type: event };
  }
  const parsed = SyncEvent.safeParse(candidate);
  if (!parsed.success) return { kind: "invalid", detail: issueText(parsed.error) };
  return { kind: "events", events: [parsed.data] };
}
