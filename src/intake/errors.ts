/** JSON error bodies for the intake routes, and the zod issue -> field path mapping. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";

export interface FieldIssue {
  path: string;
  message: string;
}

/** One entry per bad field, named by its JSON path (`events.3.data.emails`). */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.slice(0, 100).map((i) => ({
    path: i.path.map(String).join(".") || "(body)",
    message: i.message,
  }));
}

export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  error: string,
  message: string,
  extra: Record<string, unknown> = {},
): Response {
  return c.json({ error, message, ...extra }, status);
}

/**
 * Whether a store failure is worth the caller delivering again: Redis unreachable, timed out,
 * loading, out of memory, read-only. Anything else (a script error on odd input) will fail the
 * same way next time, so it is answered 500 rather than 503, or the IdP would retry forever.
 */
export function isTransientStoreError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name !== "ReplyError") return true; // connection closed, timeout, offline, ...
  return /^(OOM|LOADING|BUSY|MISCONF|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOSCRIPT)\b/
    .test(error.message);
}

/** Answers a failure to store accepted input: 503 + Retry-After when transient, else 500. */
export function storeFailure(c: Context, error: unknown): Response {
  if (isTransientStoreError(error)) return unavailable(c);
  return errorResponse(c, 500, "internal", "the events could not be stored; nothing was accepted");
}

/**
 * Reads the body as strict UTF-8: bytes that are not valid UTF-8 are refused, rather than
 * silently replaced (two ids differing only in bad bytes would otherwise collide).
 *
 * @returns the text, or undefined when it is not valid UTF-8
 */
export async function readUtf8Body(c: Context): Promise<string | undefined> {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(await c.req.arrayBuffer());
  } catch {
    return undefined;
  }
}

/** 503 with Retry-After: the caller should deliver again later; nothing was accepted. */
export function unavailable(c: Context, retryAfterSeconds = 5): Response {
  c.header("Retry-After", String(retryAfterSeconds));
  return errorResponse(
    c,
    503,
    "unavailable",
    "the event store is unreachable; nothing was accepted, deliver again later",
  );
}
