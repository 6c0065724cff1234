/**
 * Runs the service as a real child process (`src/main.ts --role api|worker`), the way it is
 * deployed, so a test or benchmark can SIGKILL it, count its log lines and read its memory.
 * No vitest import: the benchmarks use this file too.
 */
import { freePort } from "./redis.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
/** Lines kept per process for failure messages; older ones are dropped. */
const KEEP_LINES = 400;

export interface ServiceProcess {
  role: "api" | "worker" | "all";
  pid: number;
  /** Intake base URL (api and all roles). */
  url?: string;
  /** The last log lines (stdout and stderr), for failure messages. */
  lines: string[];
  /** How many log lines carried each `msg`, over the whole life of the process. */
  counts: Map<string, number>;
  /** Resolves when the process has exited. */
  exited: Promise<Deno.CommandStatus>;
  /** Memory as the kernel sees it; undefined once the process is gone. */
  memory(): ProcessMemory | undefined;
  /** Sends a signal and waits for the exit. */
  kill(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

export interface ProcessMemory {
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size (VmHWM), bytes. */
  peakRss: number;
}

export interface SpawnOptions {
  /** Environment for the service; PORT and HOST are filled in for roles that serve HTTP. */
  env: Record<string, string>;
  /** @default 30_000 */
  startTimeoutMs?: number;
  /**
   * Send stdout (info logs) to /dev/null instead of reading it, so a benchmark does not spend
   * CPU on log lines. Not for workers: their readiness is read from the log.
   * @default false
   */
  discardStdout?: boolean;
}

/** Reads VmRSS and VmHWM from /proc (Linux only). */
export function readProcessMemory(pid: number): ProcessMemory | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return undefined;
  }
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1]);
  const rss = kb("VmRSS");
  const peakRss = kb("VmHWM");
  return Number.isFinite(rss) ? { rss: rss * 1024, peakRss: peakRss * 1024 } : undefined;
}

/**
 * Starts `src/main.ts --role <role>` with `Deno.execPath()` (the deno running us) and waits
 * until it is ready: the intake answers /healthz, workers logged "workers started".
 *
 * @throws {Error} if it exits or is not ready within `startTimeoutMs`, with its last log lines.
 */
export async function spawnService(
  role: ServiceProcess["role"],
  options: SpawnOptions,
): Promise<ServiceProcess> {
  const { startTimeoutMs = 30_000, discardStdout = false } = options;
  if (discardStdout && role === "worker") {
    throw new Error("spawnService: a worker's stdout is needed to see it start");
  }
  // Only what deno itself needs is inherited, so a developer's own EVENTS_TOKEN and the like
  // cannot change what the test configured.
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "XDG_CACHE_HOME"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  Object.assign(env, options.env);
  let url: string | undefined;
  if (role !== "worker") {
    const port = await freePort();
    env.PORT = String(port);
    env.HOST = "127.0.0.1";
    url = `http://127.0.0.1:${port}`;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--role", role],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: discardStdout ? "null" : "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const counts = new Map<string, number>();
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > KEEP_LINES) lines.shift();
    const msg = /"msg":"([^"]*)"/.exec(line)?.[1];
    if (msg !== undefined) counts.set(msg, (counts.get(msg) ?? 0) + 1);
  };
  const drained = Promise.all([
    discardStdout ? undefined : readLines(child.stdout, onLine),
    readLines(child.stderr, onLine),
  ]);
  const exited = child.status.then(async (s) => {
    await drained;
    return s;
  });
  const proc: ServiceProcess = {
    role,
    pid: child.pid,
    ...(url ? { url } : {}),
    lines,
    counts,
    exited,
    memory: () => readProcessMemory(child.pid),
    async kill(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // Already gone: the exit status below says how it ended.
      }
      return await exited;
    },
  };
  let gone = false;
  void exited.then(() => gone = true);
  const deadline = Date.now() + startTimeoutMs;
  while (!(await isReady(proc))) {
    if (gone || Date.now() > deadline) {
      if (!gone) await proc.kill("SIGKILL");
      throw new Error(
        `${role} process ${gone ? "exited" : "not ready"} during start:\n${lines.join("\n")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

async function isReady(proc: ServiceProcess): Promise<boolean> {
  if (proc.role === "worker") return (proc.counts.get("workers started") ?? 0) > 0;
  try {
    const res = await fetch(`${proc.url}/healthz`);
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const p of parts) if (p) onLine(p);
  }
  if (rest) onLine(rest);
}
