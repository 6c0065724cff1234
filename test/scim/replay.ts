/**
 * Replays a recorded SCIM session against a running service: each step's request, the status
 * the client needs, values to capture from the answer (ids the client remembers), and checks.
 * `{{name}}` in a path or body is replaced by a captured value.
 */
import { expect } from "vitest";

export interface RecordedStep {
  /** What the client is doing, for failure messages. */
  note: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  /** Statuses the client accepts (e.g. Entra takes 200 or 204 for PATCH). */
  status: number | number[];
  /** Captured value name -> top-level attribute of the answer (usually "id"). */
  capture?: Record<string, string>;
  // deno-lint-ignore no-explicit-any
  check?: (body: any) => void;
}

export interface ReplayOptions {
  baseUrl: string;
  token: string;
  /** Headers the client sends on every request. */
  headers?: Record<string, string>;
}

const fill = (text: string, vars: Record<string, string>) =>
  text.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`replay: {{${name}}} was never captured`);
    return v;
  });

/**
 * Replays the steps in order; fails at the first answer the client would not accept.
 *
 * @returns the captured values
 */
export async function replay(
  steps: RecordedStep[],
  options: ReplayOptions,
): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const step of steps) {
    const url = `${options.baseUrl}${fill(step.path, vars)}`;
    const res = await fetch(url, {
      method: step.method,
      headers: {
        authorization: `Bearer ${options.token}`,
        accept: "application/scim+json",
        ...(step.body !== undefined ? { "content-type": "application/scim+json" } : {}),
        ...options.headers,
      },
      ...(step.body !== undefined ? { body: fill(JSON.stringify(step.body), vars) } : {}),
    });
    const text = await res.text();
    const body = text ? JSON.parse(text) : null;
    const ok = Array.isArray(step.status) ? step.status : [step.status];
    expect(ok, `${step.note}: ${step.method} ${url} -> ${res.status} ${text}`).toContain(
      res.status,
    );
    if (res.status !== 204 && res.status < 300) {
      expect(res.headers.get("content-type"), step.note).toContain("application/scim+json");
    }
    for (const [name, attr] of Object.entries(step.capture ?? {})) {
      expect(typeof body?.[attr], `${step.note}: capture ${attr}`).toBe("string");
      vars[name] = body[attr];
    }
    step.check?.(body);
  }
  return vars;
}
