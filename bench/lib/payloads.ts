/**
 * Request bodies for the benchmarks. Every event has a fresh id and a fresh user, so the intake
 * does its full work (store, enqueue) instead of answering "duplicate" from the second request.
 */

/** One `user.created` event for user `n` of run `tag`. */
export function userEvent(tag: string, n: number): string {
  const email = `${tag}.user${n}@bench.example`;
  return `{"id":"${tag}-e${n}","type":"user.created","data":{"id":"${tag}-u${n}",` +
    `"userName":"${email}","name":{"givenName":"Bench","familyName":"User ${n}"},` +
    `"emails":[{"value":"${email}","primary":true}]}}`;
}

/** `{"events": [...]}` with `size` user events, numbered from `first`. */
export function userBatch(tag: string, first: number, size: number): string {
  const events: string[] = [];
  for (let i = 0; i < size; i++) events.push(userEvent(tag, first + i));
  return `{"events":[${events.join(",")}]}`;
}

/** A SCIM User for `POST /scim/v2/Users`. */
export function scimUser(tag: string, n: number): string {
  const email = `${tag}.scim${n}@bench.example`;
  return JSON.stringify({
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: email,
    name: { givenName: "Bench", familyName: `Scim ${n}` },
    emails: [{ value: email, primary: true }],
    active: true,
  });
}

export type BodyKind = "event" | "batch" | "scim-user";

/** Events (or SCIM users) per request. */
export const BATCH_SIZE = 100;

/** A body maker for `kind`; each call numbers the next request. */
export function bodyMaker(kind: BodyKind, tag: string): () => string {
  let n = 0;
  switch (kind) {
    case "event":
      return () => userEvent(tag, n++);
    case "batch":
      return () => userBatch(tag, (n++) * BATCH_SIZE, BATCH_SIZE);
    case "scim-user":
      return () => scimUser(tag, n++);
  }
}
