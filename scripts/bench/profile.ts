/**
 * Where each process of a chain spends its CPU: the `.cpuprofile` files that `node --cpu-prof`
 * writes at exit, cut to the timed window (profile timestamps and `process.hrtime` read the same
 * monotonic clock) and summed by function (self time) and by module. The profile sees the main
 * JavaScript threads only: zeromq's I/O thread and V8's GC helper threads are in the /proc CPU
 * figures but not here. A part's other JavaScript threads (the heartbeat, tsx's module loader) are
 * summed apart; there V8 cannot tell waiting from running native code, so their "(program)" time
 * is left out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ThreadCpu } from './proc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] }

export interface Hotspot { name: string; ms: number; share: number }

export interface PartProfile {
  part: string;
  /** busy main-thread ms in the window (idle excluded) */
  busyMs: number;
  functions: Hotspot[];
  modules: Hotspot[];
  /** busy ms of the process's other threads, "(program)" excluded */
  otherThreadsMs: number;
}

/** the now of the profiles' clock, µs */
export function profileClock(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** where a script is: a package, a file of ours, or node's own */
function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.replace(/^file:\/\//, '');
  const packaged = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (packaged) return packaged[1]!;
  return path.startsWith(ROOT) ? relative(ROOT, path) : path;
}

function ranked(totals: Map<string, number>, busy: number, top: number): Hotspot[] {
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, share: busy ? us / 1000 / busy : 0 }));
}

/** one profile's busy time in [from, to] (µs of `profileClock`), by function and by module */
export function summariseProfile(part: string, profile: CpuProfile, from: number, to: number, top = 15): PartProfile {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let at = profile.startTime;
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i]!;
    if (at < from || at > to) continue;
    // a sample stands for the time until the next one
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frame = nodes.get(profile.samples[i]!)!;
    if (frame.functionName === '(idle)') continue;
    busy += us;
    const where = moduleOf(frame.url, frame.functionName);
    // tsx hands V8 code whose line numbers say nothing (0); node's own and packages' are kept
    const line = frame.lineNumber > 0 ? `:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'}${frame.url ? ` ${where}${line}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byModule.set(where, (byModule.get(where) ?? 0) + us);
  }
  return { part, busyMs: busy / 1000, functions: ranked(byFunction, busy / 1000, top), modules: ranked(byModule, busy / 1000, top), otherThreadsMs: 0 };
}

/** every profile in `dir` whose process is one of `pids` (part → pid) */
export function summariseProfiles(dir: string, pids: Record<string, number>, from: number, to: number): PartProfile[] {
  const partOf = new Map(Object.entries(pids).map(([part, pid]) => [pid, part]));
  const summaries = new Map<string, PartProfile>();
  const others = new Map<string, number>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    // CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile; thread 0 is the main one
    const [pid, thread] = file.split('.').slice(3, 5).map(Number);
    const part = partOf.get(pid!);
    if (!part) continue;
    const summary = summariseProfile(part, JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, from, to, thread === 0 ? 15 : Infinity);
    if (thread === 0) summaries.set(part, summary);
    else others.set(part, (others.get(part) ?? 0) + summary.functions.filter((f) => f.name !== '(program)').reduce((sum, f) => sum + f.ms, 0));
  }
  for (const [part, ms] of others) if (summaries.has(part)) summaries.get(part)!.otherThreadsMs = ms;
  return [...summaries.values()].sort((a, b) => a.part.localeCompare(b.part));
}

/**
 * Markdown: per part, the functions and modules its main thread spent its time in. The profiler
 * samples on the wall clock, so on a busy machine a thread that waits for a core still collects
 * samples; the shares are therefore applied to the main thread's CPU time from /proc (`cpu`: µs per
 * event by thread), not to the sampled time.
 */
export function profileMarkdown(title: string, summaries: PartProfile[], cpu: Record<string, ThreadCpu>): string {
  const lines = [`### ${title}`, ''];
  const us = (n: number) => n.toFixed(n < 10 ? 1 : 0);
  for (const s of summaries) {
    const threads = cpu[s.part] ?? { main: NaN, zmq: NaN, other: NaN };
    lines.push(`**${s.part}**: ${us(threads.main + threads.zmq + threads.other)} µs CPU per event: main thread ${us(threads.main)}, `
      + `ZeroMQ I/O thread ${us(threads.zmq)}, other threads ${us(threads.other)} (of which JavaScript: ${s.otherThreadsMs.toFixed(0)} ms sampled)`, '');
    lines.push('| main thread, self time by function | µs/event | share |', '| --- | ---: | ---: |');
    for (const f of s.functions) lines.push(`| \`${f.name}\` | ${us(f.share * threads.main)} | ${(100 * f.share).toFixed(1)} % |`);
    lines.push('', '| main thread, by module | µs/event | share |', '| --- | ---: | ---: |');
    for (const m of s.modules.slice(0, 8)) lines.push(`| ${m.name} | ${us(m.share * threads.main)} | ${(100 * m.share).toFixed(1)} % |`);
    lines.push('');
  }
  return lines.join('\n');
}
