/**
 * The provider-neutral event model. Every source (`POST /events`, SCIM, the WorkOS and Keycloak
 * adapters) turns what it receives into these events and hands them to `ingestEvents`.
 *
 * The `id`s inside `data` are the identity provider's ids, never IONOS ids.
 */
import { z } from "zod";

/** Loose check: IONOS rejects anything that is not an email, so we refuse early. */
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export function isEmail(value: unknown): value is string {
  return typeof value === "string" && value.length <= 254 && EMAIL_RE.test(value);
}

/**
 * Text that is well-formed Unicode. A lone surrogate (`"\ud800"` in JSON) is not a character:
 * IONOS cannot store it, and Redis' Lua JSON decoder refuses it, which used to turn the whole
 * request into a 503 that the IdP would deliver again forever. Refused here, naming the field.
 */
const text = (min: number, max: number) =>
  z.string().min(min).max(max).refine(
    (s) => s.isWellFormed(),
    "must be well-formed Unicode (a lone surrogate is not)",
  );
const idpId = text(1, 256);
const shortText = text(0, 1024);

/** A SCIM 2.0 User as far as we read it; unknown attributes are allowed and ignored. */
export const ScimUserData = z.looseObject({
  id: idpId,
  userName: shortText.optional(),
  externalId: shortText.optional(),
  displayName: shortText.optional(),
  name: z.looseObject({
    givenName: shortText.nullish(),
    familyName: shortText.nullish(),
    formatted: shortText.nullish(),
  }).optional(),
  emails: z.array(z.looseObject({
    value: shortText,
    primary: z.boolean().optional(),
    type: shortText.optional(),
  })).max(100).optional(),
  active: z.boolean().optional(),
});
export type ScimUserData = z.infer<typeof ScimUserData>;

const MemberRef = z.looseObject({ value: idpId, display: shortText.optional() });

export const ScimGroupData = z.looseObject({
  id: idpId,
  displayName: text(1, 1024),
  externalId: shortText.optional(),
  /** When present: the full member list. When absent: members are left as they are. */
  members: z.array(MemberRef).max(100_000).optional(),
});
export type ScimGroupData = z.infer<typeof ScimGroupData>;

const MembershipData = z.looseObject({
  groupId: idpId,
  members: z.array(MemberRef).min(1).max(100_000),
});

const base = {
  id: text(1, 256),
  /** When the change happened at the identity provider; orders changes to one entity. */
  time: z.iso.datetime({ offset: true }).optional(),
};

/** A user event must carry an email IONOS can use: an email-shaped `emails[].value` or `userName`. */
const UserWithEmail = ScimUserData.refine((u) => userEmail(u) !== undefined, {
  message: "user needs an email: an email-shaped emails[].value or userName",
  path: ["emails"],
});

export const SyncEvent = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("user.created"), data: UserWithEmail }),
  z.object({ ...base, type: z.literal("user.updated"), data: UserWithEmail }),
  z.object({ ...base, type: z.literal("user.deactivated"), data: UserWithEmail }),
  z.object({ ...base, type: z.literal("user.reactivated"), data: UserWithEmail }),
  z.object({ ...base, type: z.literal("user.deleted"), data: z.looseObject({ id: idpId }) }),
  z.object({ ...base, type: z.literal("group.created"), data: ScimGroupData }),
  z.object({ ...base, type: z.literal("group.updated"), data: ScimGroupData }),
  z.object({ ...base, type: z.literal("group.deleted"), data: z.looseObject({ id: idpId }) }),
  z.object({ ...base, type: z.literal("group.members.added"), data: MembershipData }),
  z.object({ ...base, type: z.literal("group.members.removed"), data: MembershipData }),
]);
export type SyncEvent = z.infer<typeof SyncEvent>;
export type SyncEventType = SyncEvent["type"];

const Batch = z.object({ events: z.array(SyncEvent).min(1).max(1000) });

/**
 * Parses one event, or `{"events": [...]}` with up to 1000 of them. The shape is picked first,
 * so errors name the bad field (`events.3.data.emails`) instead of "no union member matched".
 */
export function parseEventBatch(
  json: unknown,
): { success: true; events: SyncEvent[] } | { success: false; error: z.ZodError } {
  const isBatch = typeof json === "object" && json !== null && "events" in json;
  const result = isBatch ? Batch.safeParse(json) : SyncEvent.safeParse(json);
  if (!result.success) return { success: false, error: result.error };
  return { success: true, events: "events" in result.data ? result.data.events : [result.data] };
}

/**
 * The email IONOS should use for a SCIM user: the primary email, else the first email-shaped
 * one, else `userName` when it is email-shaped.
 */
export function userEmail(user: ScimUserData): string | undefined {
  const emails = user.emails ?? [];
  const primary = emails.find((e) => e.primary && isEmail(e.value));
  const candidate = primary?.value ?? emails.find((e) => isEmail(e.value))?.value ??
    (isEmail(user.userName) ? user.userName : undefined);
  return candidate?.trim().normalize("NFC").toLowerCase();
}
