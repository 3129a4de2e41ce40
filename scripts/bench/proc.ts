/**
 * What the bench reads about processes and the machine, from /proc: CPU time and RSS of a process
 * (every thread of it), and the load average. Linux only, as the bench's numbers are.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, 100 on every Linux we run on) */
const CLOCK_TICKS = 100;

/** user + system CPU seconds of a process so far; undefined once it is gone */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // fields after the command name, which may hold spaces: utime and stime are fields 14 and 15
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** resident memory of a process in MB; undefined once it is gone */
export function rssMb(pid: number): number | undefined {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return undefined;
  }
}

/** the 1-minute load average */
export function load1(): number {
  return loadavg()[0]!;
}

/** CPU seconds of named processes between `start()` and `stop()` */
export class CpuMeter {
  private readonly before = new Map<string, number>();

  constructor(private readonly pids: Record<string, number>) {
    for (const [part, pid] of Object.entries(pids)) this.before.set(part, cpuSeconds(pid) ?? 0);
  }

  /** seconds per part since construction */
  read(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.pids).map(([part, pid]) => [part, (cpuSeconds(pid) ?? 0) - this.before.get(part)!]));
  }
}
