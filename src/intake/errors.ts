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
