/**
 * Helpers for tests that drive a harness (ops, pipeline, console, security): admin API calls,
 * waiting for a condition, and counting simulator users by email.
 */
import { ADMIN_TOKEN, type Harness } from "./harness.ts";

/** Calls the admin API with the admin token; returns status and parsed body. */
export async function admin<T = Record<string, unknown>>(
  h: Harness,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${h.url}/admin/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

/** Polls `check` until it returns a truthy value; throws with `what` after the timeout. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T> | T,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** IONOS users in the simulator with this email (to prove there is never a duplicate). */
export function usersWithEmail(h: Harness, email: string): number {
  return h.sim.sim.state.users().filter((u) =>
    u.properties.email.toLowerCase() === email.toLowerCase()
  ).length;
}
