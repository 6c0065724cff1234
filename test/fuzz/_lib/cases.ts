/** One hostile request, and what a correct service does with it. */
export interface FuzzCase {
  /** Category, for the counts the test prints. */
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  /**
   * "reject": a 4xx with a clear JSON error body. "duplicate": an exact replay of a delivery
   * already accepted, answered 2xx with nothing accepted. "safe": a read that may succeed or be
   * refused, but never with a 5xx.
   */
  expect: "reject" | "duplicate" | "safe";
}

/** Bodies over the limit; the service must answer 413 without reading them whole. */
export function oversizedBody(limitBytes: number, extra: number): string {
  const filler = "x".repeat(limitBytes + extra);
  return `{"id":"big","type":"user.created","data":{"id":"big","displayName":"${filler}"}}`;
}
