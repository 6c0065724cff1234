/** What the benchmark ran on, for the results file and BENCHMARKS.md. */

export interface Machine {
  cpuModel: string;
  nproc: number;
  memoryGiB: number;
  kernel: string;
  deno: string;
  v8: string;
  redis: string;
}

export async function describeMachine(): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const redis = await output("redis-server", ["--version"]);
  return {
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    // What this process may use, which is what `nproc` prints (cgroup and affinity aware).
    nproc: Number((await output("nproc", [])).trim()) || navigator.hardwareConcurrency,
    memoryGiB: Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0) / 1024 / 1024),
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    redis: /v=(\S+)/.exec(redis)?.[1] ?? "unknown",
  };
}

async function output(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout);
  } catch {
    return "";
  }
}
