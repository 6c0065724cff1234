/**
 * Every SCIM change: validate, store the resource, hand its SyncEvents to `ingestEvents`, and
 * only then answer.
 *
 * Why a journal: the resource and its events are written in one Redis script (the events into
 * `<prefix>:scim:pending`), then ingested, then cleared from the journal. If Redis goes away in
 * between, the client gets a 503 and the journal still holds the events; the next write (or
 * `flushPending`) ingests them, and event-id de-duplication makes a repeat harmless. So the SCIM
 * store and the wanted state never disagree for good, and nothing is answered 2xx unless Redis
 * took it.
 */
import { type ScimUserData, type SyncEvent, userEmail } from "../events/event.ts";
import { type IngestDeps, ingestEvents } from "../intake/ingest.ts";
import type { Logger } from "../log.ts";
import { badRequest, ScimError, unavailableError } from "./errors.ts";
import {
  groupDeletedEvent,
  groupEvent,
  groupPatchEvents,
  membersRemovedEvent,
  userDeletedEvent,
  userEvent,
} from "./events.ts";
import { type Attributes, normalizeAttributes } from "./normalize.ts";
import { applyPatch } from "./patch.ts";
import type { ResourceTypeDef } from "./schema.ts";
import {
  etagOf,
  type ResourceWrite,
  type ScimStore,
  type StoredDoc,
  type StoredResource,
  uniqueKey,
} from "./store.ts";
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from "./urns.ts";

export interface ScimWriterOptions {
  store: ScimStore;
  ingest: IngestDeps;
  logger: Logger;
  /** Clock in ms; injectable for tests. @default Date.now */
  now?: () => number;
}

/** A change ready to commit, and what to answer once it is in. */
interface Plan {
  writes: ResourceWrite[];
  events: SyncEvent[];
  result?: StoredResource;
}

/** Compare-and-set retries when two requests change one resource at the same moment. */
const MAX_ATTEMPTS = 5;

/** Turns any store failure into a 503; `ScimError`s pass through. */
export async function guard<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (e) {
    if (e instanceof ScimError) throw e;
    throw unavailableError(e);
  }
}

/** Checks `If-Match` (RFC 7644 §3.14); `*` matches any version. */
function checkIfMatch(current: StoredResource, ifMatch: string | undefined): void {
  if (ifMatch === undefined || ifMatch.trim() === "*") return;
  const want = etagOf(current.version).replace(/^W\//, "");
  const given = ifMatch.split(",").map((t) => t.trim().replace(/^W\//, ""));
  if (!given.includes(want)) {
    throw new ScimError(412, `the resource changed: its version is now ${etagOf(current.version)}`);
  }
}

/**
 * Creates, replaces, patches and deletes SCIM resources.
 *
 * @example
 * const writer = new ScimWriter({ store, ingest: { store: wanted, queue }, logger });
 * const { doc } = await writer.create(USER_TYPE, body);
 */
export class ScimWriter {
  readonly #store: ScimStore;
  readonly #ingest: IngestDeps;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(options: ScimWriterOptions) {
    this.#store = options.store;
    this.#ingest = options.ingest;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** POST: a new resource with a fresh id. @throws {ScimError} 400, 409 uniqueness, 503 */
  async create(type: ResourceTypeDef, input: unknown): Promise<StoredResource> {
    const attrs = normalizeAttributes(type, input);
    await this.#validate(type, attrs, undefined);
    const created = await this.#run(() => {
      const time = this.#time(undefined);
      const doc = this.#doc(type, crypto.randomUUID(), attrs, time, time, 1);
      const event = type.name === "User" ? userEvent(undefined, doc) : groupEvent(undefined, doc);
      return Promise.resolve({
        writes: [{
          type: type.name,
          id: doc.id,
          expect: 0,
          doc,
          newUnique: uniqueKey(attrs[type.uniqueAttr] as string),
        }],
        events: [event],
        result: { doc, version: 1 },
      });
    });
    return created!;
  }

  /** PUT: replaces every attribute. @throws {ScimError} 400, 404, 409, 412, 503 */
  async replace(
    type: ResourceTypeDef,
    id: string,
    input: unknown,
    ifMatch?: string,
  ): Promise<StoredResource> {
    const attrs = normalizeAttributes(type, input);
    return await this.#update(
      type,
      id,
      ifMatch,
      () => attrs,
      (before, after) =>
        type.name === "User" ? [userEvent(before, after)] : [groupEvent(before, after)],
    );
  }

  /** PATCH: applies PatchOp operations. @throws {ScimError} 400, 404, 409, 412, 503 */
  async patch(
    type: ResourceTypeDef,
    id: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<StoredResource> {
    return await this.#update(
      type,
      id,
      ifMatch,
      (current) => normalizeAttributes(type, applyPatch(type, current, body)),
      (before, after) =>
        type.name === "User" ? [userEvent(before, after)] : groupPatchEvents(before, after),
    );
  }

  /** DELETE; a deleted user also leaves the groups listing it. @throws {ScimError} 404, 412, 503 */
  async remove(type: ResourceTypeDef, id: string, ifMatch?: string): Promise<void> {
    await this.#run(async () => {
      const current = await this.#load(type, id);
      checkIfMatch(current, ifMatch);
      const time = this.#time(current.doc.meta.lastModified);
      const writes: ResourceWrite[] = [{
        type: type.name,
        id,
        expect: current.version,
        oldUnique: uniqueKey(current.doc[type.uniqueAttr] as string),
        before: current.doc,
      }];
      if (type.name === "Group") return { writes, events: [groupDeletedEvent(id, time)] };
      const events = [userDeletedEvent(id, time)];
      for (const group of await guard(this.#groupsListing(id))) {
        const members = (group.doc.members as { value: string }[]).filter((m) => m.value !== id);
        const t = this.#time(group.doc.meta.lastModified, time);
        const { members: _old, ...rest } = group.doc;
        const doc: StoredDoc = {
          ...rest,
          members: members.length ? members : undefined, // no empty list, as before
          meta: { ...group.doc.meta, lastModified: t, version: etagOf(group.version + 1) },
        };
        writes.push({ type: "Group", id: doc.id, expect: group.version, doc, before: group.doc });
        events.push(membersRemovedEvent(doc.id, id, t));
      }
      return { writes, events };
    });
  }

  /**
   * Ingests events journaled by a write whose ingest did not finish. Runs before every write
   * (and, best effort, before every SCIM read); call it from a timer if SCIM traffic is rare.
   *
   * @returns how many events were journaled
   * @throws {ScimError} 503 when Redis is unreachable
   */
  async flushPending(): Promise<number> {
    const events = await guard(this.#store.pendingEvents());
    if (events.length === 0) return 0;
    await guard(ingestEvents(this.#ingest, events, { source: "scim" }));
    await guard(this.#store.clearPending(events.map((e) => e.id)));
    this.#logger.info("scim: ingested journaled events", { count: events.length });
    return events.length;
  }

  async #update(
    type: ResourceTypeDef,
    id: string,
    ifMatch: string | undefined,
    change: (current: StoredDoc) => Attributes,
    eventsFor: (before: StoredDoc, after: StoredDoc) => SyncEvent[],
  ): Promise<StoredResource> {
    const updated = await this.#run(async () => {
      const current = await this.#load(type, id);
      checkIfMatch(current, ifMatch);
      const attrs = change(current.doc);
      if (sameAttributes(current.doc, attrs)) return { writes: [], events: [], result: current };
      await this.#validate(type, attrs, current.doc);
      const time = this.#time(current.doc.meta.lastModified);
      const version = current.version + 1;
      const doc = this.#doc(type, id, attrs, current.doc.meta.created, time, version);
      return {
        writes: [{
          type: type.name,
          id,
          expect: current.version,
          doc,
          oldUnique: uniqueKey(current.doc[type.uniqueAttr] as string),
          newUnique: uniqueKey(attrs[type.uniqueAttr] as string),
          before: current.doc,
        }],
        events: eventsFor(current.doc, doc),
        result: { doc, version },
      };
    });
    return updated!;
  }

  /** Plans, commits (retrying on a concurrent change), ingests; answers the plan's result. */
  async #run(plan: () => Promise<Plan>): Promise<StoredResource | undefined> {
    await this.flushPending();
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const p = await plan();
      if (p.writes.length === 0) return p.result; // nothing changed: nothing to sync
      const committed = await guard(this.#store.commit(p.writes, p.events));
      if (!committed.ok) {
        if (committed.reason === "conflict") continue;
        const w = p.writes.find((x) => x.id === committed.id)!;
        const attr = w.type === "User" ? "userName" : "displayName";
        throw new ScimError(409, `${attr} "${w.doc?.[attr]}" is already taken`, "uniqueness");
      }
      await this.#ingestJournaled(p.events);
      return p.result;
    }
    throw new ScimError(503, "the resource is being changed by other requests; try again");
  }

  async #ingestJournaled(events: SyncEvent[]): Promise<void> {
    try {
      await ingestEvents(this.#ingest, events, { source: "scim" });
    } catch (error) {
      // Stored and journaled, not yet ingested: the journal catches up later; the client retries.
      this.#logger.warn("scim: change stored but not ingested; journaled for retry", { error });
      throw unavailableError(error);
    }
    try {
      await this.#store.clearPending(events.map((e) => e.id));
    } catch (error) {
      // The change is in; a later flush re-ingests these ids and they count as duplicates.
      this.#logger.warn("scim: could not clear journaled events", { error });
    }
  }

  async #load(type: ResourceTypeDef, id: string): Promise<StoredResource> {
    const current = await guard(this.#store.get(type.name, id));
    if (!current) throw new ScimError(404, `${type.name} "${id}" not found`, "noTarget");
    return current;
  }

  /** Rules beyond the schema: IONOS needs a user email, and has no nested groups. */
  async #validate(
    type: ResourceTypeDef,
    attrs: Attributes,
    before: StoredDoc | undefined,
  ): Promise<void> {
    if (type.name === "User") {
      const probe = { id: "-", ...attrs } as unknown as ScimUserData;
      if (userEmail(probe) === undefined) {
        throw badRequest(
          "invalidValue",
          "emails: IONOS needs an email; make userName an email address or add emails[].value",
        );
      }
      return;
    }
    const had = new Set(((before?.members ?? []) as { value: string }[]).map((m) => m.value));
    const added = ((attrs.members ?? []) as { value: string }[]).map((m) => m.value)
      .filter((v) => !had.has(v));
    const groups = await guard(this.#store.existing("Group", added));
    if (groups.size > 0) {
      throw badRequest(
        "invalidValue",
        `members: "${[...groups][0]}" is a group; IONOS has no nested groups`,
      );
    }
  }

  /** Groups that list `userId` as a member. Scans all groups: deletes are rare. */
  async #groupsListing(userId: string): Promise<StoredResource[]> {
    const groups = await this.#store.getMany("Group", await this.#store.ids("Group"));
    return groups.filter((g) =>
      ((g.doc.members ?? []) as { value: string }[]).some((m) => m.value === userId)
    );
  }

  #doc(
    type: ResourceTypeDef,
    id: string,
    attrs: Attributes,
    created: string,
    lastModified: string,
    version: number,
  ): StoredDoc {
    const schemas = type.name === "Group"
      ? [GROUP_SCHEMA]
      : [USER_SCHEMA, ...(attrs[ENTERPRISE_USER_SCHEMA] ? [ENTERPRISE_USER_SCHEMA] : [])];
    return {
      schemas,
      id,
      ...attrs,
      meta: { resourceType: type.name, created, lastModified, version: etagOf(version) },
    };
  }

  /**
   * The change time: now, but always after the previous change of the same resource, so the
   * wanted state (which keeps the newest change by time) orders them as they happened.
   */
  #time(previous: string | undefined, atLeast?: string): string {
    let t = this.#now();
    if (previous) t = Math.max(t, Date.parse(previous) + 1);
    if (atLeast) t = Math.max(t, Date.parse(atLeast));
    return new Date(t).toISOString();
  }
}

/** Whether the attributes equal the stored ones (both normalized, so key order matches). */
function sameAttributes(doc: StoredDoc, attrs: Attributes): boolean {
  const { schemas: _s, id: _i, meta: _m, ...stored } = doc;
  return JSON.stringify(stored) === JSON.stringify(attrs);
}
