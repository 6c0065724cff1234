/**
 * Runs the benchmark's helper scripts (load client, baseline server, BullMQ baseline) as their
 * own processes, so the measured server never shares an event loop with what drives it.
 */

const BENCH = new URL("../", import.meta.url).pathname;

/**
 * Runs `bench/<script>` with `config` (as JSON in argv) and returns the JSON object it prints
 * as its last stdout line.
 *
 * @throws {Error} if it exits non-zero or prints no JSON, with its stderr.
 */
export async function runScript<T>(script: string, config: unknown): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${BENCH}${script}`, JSON.stringify(config)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const last = stdout.split("\n").at(-1) ?? "";
  if (!out.success || !last.startsWith("{")) {
    throw new Error(`${script} failed:\n${new TextDecoder().decode(out.stderr)}\n${stdout}`);
  }
  return JSON.parse(last) as T;
}

export interface Background {
  pid: number;
  stop(): Promise<void>;
}

/** Starts `bench/<script>` in the background; it must print "ready" once it serves. */
export async function startScript(script: string, config: unknown): Promise<Background> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${BENCH}${script}`, JSON.stringify(config)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} exited before it was ready`);
    seen += value;
  }
  // Keep draining so the child never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** The config a helper script was given (its first argument). */
export function scriptConfig<T>(): T {
  const raw = Deno.args[0];
  if (!raw) throw new Error("expected the config as JSON in the first argument");
  return JSON.parse(raw) as T;
}
