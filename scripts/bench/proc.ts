/**
 * What the bench reads about processes and the machine, from /proc: CPU time and RSS of a process
 * (every thread of it), and the load average. Linux only, as the bench's numbers are.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, 100 on every Linux we run on) */
const CLOCK_TICKS = 100;

/**
 * user + system CPU seconds in a /proc stat file, with `reaped` those of the children it waited
 * for too; undefined once it is gone
 */
function statCpuSeconds(path: string, reaped = false): number | undefined {
  try {
    // fields after the command name, which may hold spaces: utime, stime, cutime and cstime are fields 14 to 17
    const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
    return fields.slice(11, reaped ? 15 : 13).reduce((sum, ticks) => sum + Number(ticks), 0) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * user + system CPU seconds of a process (all its threads) so far, with `reaped` those of its
 * finished children too (a payload's compiler); undefined once it is gone
 */
export function cpuSeconds(pid: number, reaped = false): number | undefined {
  return statCpuSeconds(`/proc/${pid}/stat`, reaped);
}

export interface ThreadCpu { main: number; zmq: number; other: number }

/**
 * CPU seconds of a process by thread: the main (JavaScript) thread, ZeroMQ's I/O threads, and the
 * rest (V8's GC and compiler helpers, libuv's pool, worker threads such as the heartbeat)
 */
export function threadCpuSeconds(pid: number): ThreadCpu {
  const cpu: ThreadCpu = { main: 0, zmq: 0, other: 0 };
  let threads: string[] = [];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return cpu;
  }
  for (const tid of threads) {
    const seconds = statCpuSeconds(`/proc/${pid}/task/${tid}/stat`) ?? 0;
    let name = '';
    try {
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8');
    } catch {
      // the thread ended meanwhile
    }
    if (Number(tid) === pid) cpu.main += seconds;
    else if (name.startsWith('ZMQbg')) cpu.zmq += seconds;
    else cpu.other += seconds;
  }
  return cpu;
}

/** resident memory of a process in MB; undefined once it is gone */
export function rssMb(pid: number): number | undefined {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return undefined;
  }
}

/** user + system CPU seconds so far of a process's live descendants (this process's by default) */
export function descendantsCpuSeconds(pid = process.pid): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      try {
        total += (cpuSeconds(Number(child)) ?? 0) + descendantsCpuSeconds(Number(child));
      } catch {
        // it ended meanwhile
      }
    }
  }
  return total;
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
