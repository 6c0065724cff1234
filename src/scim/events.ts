/**
 * The SyncEvents a SCIM change stands for. Our SCIM ids are the IdP ids of the event model, so
 * a group's member values (our user ids) are used as they are.
 */
import { SyncEvent } from "../events/event.ts";
import { badRequest } from "./errors.ts";
import type { StoredDoc } from "./store.ts";

type Member = { value: string; display?: string };

/** A unique event id per change: SCIM requests carry no id of their own. */
const eventId = () => `scim-${crypto.randomUUID()}`;

/** The user fields the event model reads; everything else stays in the SCIM store only. */
function userData(doc: StoredDoc): Record<string, unknown> {
  const name = doc.name as Record<string, unknown> | undefined;
  const emails = doc.emails as Record<string, unknown>[] | undefined;
  return {
    id: doc.id,
    userName: doc.userName,
    externalId: doc.externalId,
    displayName: doc.displayName,
    ...(name
      ? {
        name: Object.fromEntries(
          ["givenName", "familyName", "formatted"].filter((k) => name[k] !== undefined)
            .map((k) => [k, name[k]]),
        ),
      }
      : {}),
    ...(emails
      ? {
        emails: emails.filter((e) => typeof e.value === "string").map((e) => ({
          value: e.value,
          ...(typeof e.primary === "boolean" ? { primary: e.primary } : {}),
          ...(typeof e.type === "string" ? { type: e.type } : {}),
        })),
      }
      : {}),
    active: doc.active !== false,
  };
}

const members = (doc: StoredDoc): Member[] =>
  ((doc.members as Member[] | undefined) ?? []).map((m) => ({
    value: m.value,
    ...(typeof m.display === "string" ? { display: m.display } : {}),
  }));

/** Validates an event we built; a failure names the field (e.g. a 1025-character name). */
function checked(event: Record<string, unknown>): SyncEvent {
  const r = SyncEvent.safeParse(event);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.slice(1).map(String).join(".") || "(resource)";
  throw badRequest("invalidValue", `${field}: ${issue.message}`);
}

/**
 * The event for a user change: created, deactivated / reactivated when `active` flips, else
 * updated. `time` is the change time, so the wanted state keeps the newest change.
 */
export function userEvent(before: StoredDoc | undefined, after: StoredDoc): SyncEvent {
  const wasActive = before ? before.active !== false : undefined;
  const isActive = after.active !== false;
  const type = !before
    ? "user.created"
    : wasActive && !isActive
    ? "user.deactivated"
    : !wasActive && isActive
    ? "user.reactivated"
    : "user.updated";
  return checked({ id: eventId(), type, time: after.meta.lastModified, data: userData(after) });
}

export function userDeletedEvent(id: string, time: string): SyncEvent {
  return checked({ id: eventId(), type: "user.deleted", time, data: { id } });
}

/** Group created or replaced (PUT): the full member list. */
export function groupEvent(before: StoredDoc | undefined, after: StoredDoc): SyncEvent {
  return checked({
    id: eventId(),
    type: before ? "group.updated" : "group.created",
    time: after.meta.lastModified,
    data: {
      id: after.id,
      displayName: after.displayName,
      externalId: after.externalId,
      members: members(after),
    },
  });
}

/**
 * Group PATCH: only what changed. Renames become `group.updated` without members (members left
 * as they are); member changes become `group.members.added` / `removed`, so a PATCH adding one
 * member to a large group does not resend the whole list.
 */
export function groupPatchEvents(before: StoredDoc, after: StoredDoc): SyncEvent[] {
  const time = after.meta.lastModified;
  const events: SyncEvent[] = [];
  if (before.displayName !== after.displayName || before.externalId !== after.externalId) {
    events.push(checked({
      id: eventId(),
      type: "group.updated",
      time,
      data: {
        id: after.id,
        displayName: after.displayName,
        externalId: after.externalId,
      },
    }));
  }
  const old = new Map(members(before).map((m) => [m.value, m]));
  const now = new Map(members(after).map((m) => [m.value, m]));
  const added = [...now.values()].filter((m) => !old.has(m.value));
  const removed = [...old.values()].filter((m) => !now.has(m.value));
  const changes = [["group.members.added", added], ["group.members.removed", removed]] as const;
  for (const [type, list] of changes) {
    if (list.length === 0) continue;
    events.push(checked({ id: eventId(), type, time, data: { groupId: after.id, members: list } }));
  }
  return events;
}

export function groupDeletedEvent(id: string, time: string): SyncEvent {
  return checked({ id: eventId(), type: "group.deleted", time, data: { id } });
}

/** A deleted user leaves the groups that listed it. */
export function membersRemovedEvent(groupId: string, userId: string, time: string): SyncEvent {
  return checked({
    id: eventId(),
    type: "group.members.removed",
    time,
    data: { groupId, members: [{ value: userId }] },
  });
}
