/** CPU time of a process from /proc (Linux), to show which process a run saturated. */

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every mainstream Linux build

/** User + system CPU seconds the process has used so far; 0 if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Measures how busy `pids` were while `work` ran: CPU seconds per wall second (1 = a core). */
export async function measureCpu<T>(
  pids: Record<string, number>,
  work: () => Promise<T>,
  busySeconds: () => number,
): Promise<{ result: T; cpu: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuSeconds(p)]));
  const result = await work();
  const seconds = busySeconds();
  const cpu = Object.fromEntries(
    Object.entries(pids).map(([k, p]) => [k, round2((cpuSeconds(p) - before[k]!) / seconds)]),
  );
  return { result, cpu };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
