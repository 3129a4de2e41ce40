/**
 * Start-up from the compiled JavaScript: the wall time of `dranspose --help`, of
 * `dranspose run config/demo.yaml` until the controller lists every part, and the resident memory
 * of each part once idle. Reported, never asserted: `node bin/run-ts.js scripts/bench/startup.ts
 * [--runs N]` (it builds first). `npm run bench` has start-up rows of its own (spawned → registered
 * → first event, against the raw chain); this script adds `--help` and idle memory.
 *
 * `run` starts as the `dranspose` executable does, with the flags of its shebang (the controller's
 * `--expose-gc` among them), not as `node bin/dranspose.js`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
// the tests' helpers: a fresh build (on import), free ports, key clean-up, stopping a child for sure
import { BIN, ROOT, deletePrefix, freePort, sleep } from '../../test/helpers/pipeline.js';
import { stopProcess } from '../../test/helpers/process.js';
import { cpuSeconds, rssMb } from './proc.js';
import { spread } from './table.js';

const DEMO = join(ROOT, 'config/demo.yaml');
/**
 * how long the parts sit idle before their memory is read: V8's memory reducer gives back the
 * young generation that start-up grew about 8 s after a part is ready, or 8 s later when at its
 * first look the part still allocated too much (src/core/received-memory.ts)
 */
const IDLE_MS = 20_000;

const median = (values: number[]) => spread(values).median;

function helpSeconds(): number {
  const started = performance.now();
  const { status } = spawnSync(process.execPath, [BIN, '--help'], { stdio: 'ignore' });
  if (status !== 0) throw new Error(`dranspose --help exited with ${status}`);
  return (performance.now() - started) / 1000;
}

/** config/demo.yaml under its own name, key prefix and free ports, its classes by absolute path */
async function demoConfig(tag: string): Promise<{ path: string; controllerPort: number; prefix: string }> {
  const config = parse(readFileSync(DEMO, 'utf8'));
  const prefix = `dranspose:${tag}:`;
  const controllerPort = await freePort();
  const absolute = (spec: string) => resolve(dirname(DEMO), spec);
  config.name = tag;
  config.key_prefix = prefix;
  config.controller = { ...config.controller, port: controllerPort, host: '127.0.0.1' };
  config.reducer = { ...config.reducer, port: await freePort(), host: '127.0.0.1', class: absolute(config.reducer.class) };
  for (const group of config.workers) group.class = absolute(group.class);
  const path = join(mkdtempSync(join(tmpdir(), 'startup-')), 'demo.yaml');
  writeFileSync(path, stringify(config));
  return { path, controllerPort, prefix };
}

interface Ensemble { ingesters: unknown[]; workers: unknown[]; reducer: unknown }

interface Process { name: string; rssMb: number; cpuSeconds: number }

/** the run process and its parts: name, resident MB, CPU seconds used (with their finished children's, e.g. a payload's compiler) */
function processes(run: number): Process[] {
  const read = (pid: number, name?: string): Process => {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const command = args[args.indexOf(BIN) + 1];
    return {
      name: name ?? (args.includes('--name') ? args[args.indexOf('--name') + 1] : command),
      rssMb: rssMb(pid) ?? NaN,
      cpuSeconds: cpuSeconds(pid, true) ?? NaN,
    };
  };
  const parent = (pid: number) => Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  const found = [read(run, 'controller')];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number)) {
    try {
      if (parent(pid) === run) found.push(read(pid));
    } catch {
      // a process that ended meanwhile
    }
  }
  return found;
}

/** one `dranspose run` of the demo: seconds until every part registered, the CPU seconds used by then, and each idle process */
async function demoRun(run: number): Promise<{ seconds: number; cpuSeconds: number; idle: Process[] }> {
  const { path, controllerPort, prefix } = await demoConfig(`startup-${process.pid}-${run}`);
  const expected = parse(readFileSync(DEMO, 'utf8')) as { ingesters: unknown[]; workers: { count: number }[] };
  const workers = expected.workers.reduce((n, w) => n + w.count, 0);
  const started = performance.now();
  const child = spawn(BIN, ['run', path], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dranspose run exited with ${child.exitCode}`);
      const ensemble = await fetch(`http://127.0.0.1:${controllerPort}/api/v1/config`).then((r) => r.json() as Promise<Ensemble>).catch(() => undefined);
      if (ensemble && ensemble.ingesters.length === expected.ingesters.length && ensemble.workers.length === workers && ensemble.reducer) break;
      if (performance.now() - started > 120_000) throw new Error('the demo parts did not all register within 120 s');
      await sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = processes(child.pid!).reduce((sum, p) => sum + p.cpuSeconds, 0);
    await sleep(IDLE_MS);
    return { seconds, cpuSeconds, idle: processes(child.pid!) };
  } finally {
    await stopProcess(child, { graceMs: 15_000 });
    await deletePrefix(prefix);
  }
}

/** rows [measure, value, target] */
async function measureStartup(runs = 3): Promise<string[][]> {
  helpSeconds();                                            // the first start reads the files from disk
  const help = median(Array.from({ length: 5 }, helpSeconds));
  const demos = [];
  for (let run = 0; run < runs; run++) demos.push(await demoRun(run));
  const idle = demos.flatMap((d) => d.idle);
  const rows = [
    ['dranspose --help (s, median of 5)', help.toFixed(2), '< 0.5'],
    [`dranspose run config/demo.yaml to all parts registered (s, median of ${runs}; each: ${demos.map((d) => d.seconds.toFixed(2)).join(', ')})`, median(demos.map((d) => d.seconds)).toFixed(2), '< 3'],
    // what the start costs whatever else the machine does: on 2 idle cores, about half of it in wall time
    ['  CPU used by then, all processes (s, median)', median(demos.map((d) => d.cpuSeconds)).toFixed(2), ''],
    [`idle part, largest of ${runs} runs (MB RSS)`, Math.max(...idle.map((p) => p.rssMb)).toFixed(0), '< 80'],
  ];
  for (const name of new Set(idle.map((p) => p.name))) {
    const each = idle.filter((p) => p.name === name).map((p) => p.rssMb);
    rows.push([`  ${name} idle (MB RSS, median; each: ${each.map((mb) => mb.toFixed(0)).join(', ')})`, median(each).toFixed(0), '']);
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = process.argv.includes('--runs') ? Number(process.argv[process.argv.indexOf('--runs') + 1]) : 3;
  const rows = [['measure', 'value', 'target'], ...await measureStartup(runs)];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(`${rows.map((r) => r.map((cell, i) => (i ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ')).join('\n')}\n`);
}
