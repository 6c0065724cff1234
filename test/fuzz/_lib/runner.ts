/**
 * Sends fuzz cases to a running service over HTTP, a few at a time, and judges every answer.
 * Samples the server process's memory as it goes.
 */
import type { ProcessMemory, ServiceProcess } from "../../_support/service_process.ts";
import type { FuzzCase } from "./cases.ts";

/** Returns what is wrong with an answer, or undefined when it is right. */
export type Judge = (c: FuzzCase, res: Response, text: string) => string | undefined;

export interface RunResult {
  tried: number;
  byKind: Map<string, number>;
  byStatus: Map<string, number>;
  /** One line per wrong answer (the first 50). */
  problems: string[];
  /** Highest RSS sampled during the run, bytes. */
  peakRss: number;
  last?: ProcessMemory;
}

/** The longest error body we call "clear": it must not echo a megabyte of input back. */
export const MAX_ERROR_BODY = 64 * 1024;

/**
 * Checks a 4xx answer: JSON content type, a body no bigger than MAX_ERROR_BODY, and the fields
 * `describe` says a clear error has.
 */
export function judgeReject(
  describe: (body: Record<string, unknown>) => boolean,
): Judge {
  return (c, res, text) => {
    if (c.expect === "duplicate") {
      if (res.status !== 202) return `replay answered ${res.status}`;
      return /"accepted":0\b/.test(text) ? undefined : `replay accepted something: ${text}`;
    }
    if (c.expect === "safe" && res.status < 300) return undefined;
    if (res.status < 400 || res.status > 499) return `status ${res.status}: ${text.slice(0, 300)}`;
    if (!/json/.test(res.headers.get("content-type") ?? "")) {
      return `${res.status} with a body that is not JSON: ${text.slice(0, 100)}`;
    }
    if (text.length > MAX_ERROR_BODY) return `error body of ${text.length} bytes`;
    try {
      const body = JSON.parse(text);
      return describe(body) ? undefined : `unclear error body: ${text.slice(0, 300)}`;
    } catch {
      return `error body does not parse: ${text.slice(0, 300)}`;
    }
  };
}

/** The intake's own error body (`{error, message}`), for `judgeReject`. */
export const isErrorBody = (body: Record<string, unknown>): boolean =>
  typeof body.error === "string" && typeof body.message === "string";

export async function runCases(
  baseUrl: string,
  cases: FuzzCase[],
  judge: Judge,
  options: { concurrency?: number; proc?: ServiceProcess } = {},
): Promise<RunResult> {
  const { concurrency = 8, proc } = options;
  const result: RunResult = {
    tried: 0,
    byKind: new Map(),
    byStatus: new Map(),
    problems: [],
    peakRss: 0,
  };
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  let next = 0;
  const one = async (c: FuzzCase) => {
    let status: string;
    let problem: string | undefined;
    try {
      const res = await fetch(`${baseUrl}${c.path}`, {
        method: c.method,
        headers: c.headers,
        ...(c.body !== undefined && c.method !== "GET" ? { body: c.body } : {}),
      });
      const text = await res.text();
      status = String(res.status);
      problem = judge(c, res, text);
    } catch (error) {
      status = "no answer";
      problem = `no answer: ${(error as Error).message}`;
    }
    result.tried++;
    bump(result.byKind, c.kind);
    bump(result.byStatus, status);
    if (problem && result.problems.length < 50) {
      const size = typeof c.body === "string" ? c.body.length : c.body?.byteLength ?? 0;
      result.problems.push(`${c.kind} (${c.method} ${c.path}, ${size} bytes): ${problem}`);
    }
    if (proc && result.tried % 50 === 0) sample();
  };
  const sample = () => {
    const m = proc?.memory();
    if (m) {
      result.peakRss = Math.max(result.peakRss, m.rss);
      result.last = m;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < cases.length) await one(cases[next++]!);
  }));
  sample();
  return result;
}

/** A one-line summary for the test log. */
export function summary(name: string, seed: number, r: RunResult): string {
  const kinds = [...r.byKind].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
  const statuses = [...r.byStatus].sort().map(([k, n]) => `${k}: ${n}`);
  const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MiB`;
  return `${name}: ${r.tried} inputs (seed ${seed}); answers ${statuses.join(", ")}; ` +
    `peak RSS ${mb(r.peakRss)}\n  ${kinds.join(", ")}`;
}
