/**
 * Reads the body of a request whose sender is not known yet (a signed webhook), so that a
 * stranger costs us little: only a declared length within the limit, only while the
 * process-wide budget has room, and only until a deadline.
 */
import type { ByteBudget } from "./byte_budget.ts";

/** Options of {@linkcode readGuardedBody}. */
export interface GuardedBodyOptions {
  /** Largest body accepted, in bytes. */
  limit: number;
  /** Shared by every unauthenticated read in the process. */
  budget: ByteBudget;
  /**
   * The whole body must arrive within this time.
   * @default 10_000
   */
  timeoutMs?: number | undefined;
}

/** The body, or why it was not read; the status and texts are meant for the answer. */
export type GuardedBody =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; status: 400 | 408 | 413 | 503; error: string; message: string };

const refuse = (
  status: 400 | 408 | 413 | 503,
  error: string,
  message: string,
): GuardedBody => ({ ok: false, status, error, message });

/**
 * @example
 * const read = await readGuardedBody(c.req.raw, { limit: 1 << 20, budget });
 * if (!read.ok) return c.json({ error: read.error, message: read.message }, read.status);
 */
export async function readGuardedBody(
  request: Request,
  options: GuardedBodyOptions,
): Promise<GuardedBody> {
  const { limit, budget, timeoutMs = 10_000 } = options;
  const declared = request.headers.get("content-length");
  if (declared !== null && !/^\d{1,15}$/.test(declared)) {
    return refuse(400, "invalid_body", "malformed Content-Length");
  }
  // A declared length over the limit is refused before a byte is read. Without one (chunked),
  // the worst case, `limit`, is reserved and reading stops there.
  const length = declared === null ? undefined : Number(declared);
  if (length !== undefined && length > limit) {
    return refuse(413, "too_large", `body exceeds ${limit} bytes`);
  }
  const release = budget.tryReserve(length ?? limit);
  if (!release) {
    return refuse(503, "busy", "too many unverified request bytes in flight; deliver again later");
  }
  try {
    return await readAtMost(request.body, length ?? limit, length !== undefined, timeoutMs);
  } finally {
    release();
  }
}

/** Reads up to `max` bytes; with `exact`, exactly that many (the declared length). */
async function readAtMost(
  body: ReadableStream<Uint8Array> | null,
  max: number,
  exact: boolean,
  timeoutMs: number,
): Promise<GuardedBody> {
  const buffer = new Uint8Array(max);
  if (!body) {
    return max === 0 || !exact ? { ok: true, bytes: buffer.subarray(0, 0) } : refuse(
      400,
      "invalid_body",
      "no body",
    );
  }
  const reader = body.getReader();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, timeoutMs);
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (received + value.length > max) {
        await reader.cancel().catch(() => {});
        return exact
          ? refuse(400, "invalid_body", "body is longer than its Content-Length")
          : refuse(413, "too_large", `body exceeds ${max} bytes`);
      }
      buffer.set(value, received);
      received += value.length;
    }
  } catch {
    // A cancelled or broken stream; the flags below say which answer fits.
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) return refuse(408, "timeout", `body not received within ${timeoutMs} ms`);
  if (exact && received !== max) {
    return refuse(400, "invalid_body", "body is shorter than declared");
  }
  return { ok: true, bytes: buffer.subarray(0, received) };
}
