/**
 * Contrast → pipeline: a Contrast session (the stand-in in tango/contrast/tests, Debian's Python)
 * with the dranspose hook installed announces each scan, then publishes the StreamRecorder's
 * pickle-2 messages on zmq PUB; a live pipeline ingests them with the `contrast` protocol beside a
 * STINS detector stream and must finish with exactly the announced events.
 */
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { ROOT, freePort, startPipeline, type TestPipeline, completeScan } from './helpers/pipeline.js';
import { PYTHON, stopProcess } from './helpers/process.js';
import { StinsSource } from './helpers/stins-source.js';
import { pythonUnittests } from './helpers/tango.js';
import type { EchoResult } from './payloads/echo.js';

const TESTS = join(ROOT, 'tango/contrast/tests');
const ECHO = join(ROOT, 'test/payloads/echo.ts');
type Events = Record<string, EchoResult[]>;
const c = (constraint: number | null) => [{ tags: ['generic'], constraint }];

/** The stand-in Contrast session: one JSON line per scan in, one JSON line per finished scan out. */
class ContrastSession {
  private readonly lines: Interface;
  private readonly pending: string[] = [];
  private waiting?: (line: string) => void;
  stderr = '';

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => {
      if (this.waiting) this.waiting(line);
      else this.pending.push(line);
    });
    child.stderr.on('data', (d) => { this.stderr += d; });
  }

  static start(port: number, url: string): ContrastSession {
    return new ContrastSession(spawn(PYTHON, ['-B', join(TESTS, 'contrast_standin.py'), String(port), url]));
  }

  async next<T>(timeoutMs = 30_000): Promise<T> {
    const line = this.pending.shift() ?? await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Contrast stand-in said nothing for ${timeoutMs} ms:\n${this.stderr}`)), timeoutMs);
      this.waiting = (l) => { clearTimeout(timer); this.waiting = undefined; resolve(l); };
    });
    return JSON.parse(line) as T;
  }

  async scan(scan: string, args: unknown[]): Promise<string[]> {
    this.child.stdin.write(`${JSON.stringify({ scan, args })}\n`);
    return (await this.next<{ printed: string[] }>()).printed;
  }

  /** closes its stdin, which ends it (SIGKILL if it has not exited 5 s later) */
  async stop(): Promise<void> {
    await stopProcess(this.child, { ask: (child) => child.stdin!.end() });
  }
}

describe('Contrast hook (live pipeline, Contrast stand-in)', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline;
  let eiger: StinsSource;
  let session: ContrastSession;

  before(async () => {
    eiger = await StinsSource.bind();
    const port = await freePort();
    pipeline = await startPipeline({
      ingesters: [
        { name: 'contrast-ingester', streams: [{ name: 'contrast', protocol: 'contrast', upstream: `tcp://127.0.0.1:${port}` }] },
        { name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] },
      ],
      workers: [{ class: `${ECHO}:EchoWorker`, count: 2 }], reducer: { class: `${ECHO}:EchoReducer` },
    }, { ingesters: 2, workers: 2 });
    session = ContrastSession.start(port, pipeline.controller);
    expect(await session.next()).to.deep.equal({ ready: true });
  });

  after(async () => {
    await session?.stop();
    await pipeline?.stop();
    eiger?.close();
  });

  /** stream → frame number (STINS) or typ (Contrast) of the one result of an event */
  function streamsOf(events: Events, event: number): { worker: string; streams: Record<string, number | string> } {
    expect(events[event], `event ${event}`).to.have.length(1);
    const [result] = events[event]!;
    return { worker: result!.worker, streams: Object.fromEntries(Object.entries(result!.streams).map(([s, v]) => [s, v.frame ?? v.kind])) };
  }

  async function expectNoBadFrames(): Promise<void> {
    const status = await pipeline.api<{ bad_frames: number; bad_reasons: unknown }>('/api/v1/status');
    expect(status.bad_frames, JSON.stringify(status.bad_reasons)).to.equal(0);
  }

  it("runs the Python hook's own tests against the stand-in", async () => {
    await pythonUnittests(TESTS, 9);
  });

  it('a mesh announces one point per position; the Contrast records and detector frames arrive as announced', async () => {
    const printed = await session.scan('mesh', ['sx', 0, 1, 1, 'sy', 0, 1, 2, 0.1]);
    expect(printed[0]).to.match(/^beamline pre-scan of scan \d+$/);
    expect(printed[1]).to.match(new RegExp(`^dranspose: step scan announced to ${pipeline.controller} \\(requested streams eiger, i0, contrast\\), mapping [0-9a-f-]{36}$`));
    expect(printed).to.have.length(2);
    expect(await pipeline.api('/api/v1/sequence')).to.deep.equal({
      parts: {
        point: { mapping: { eiger: [c(0)], contrast: [c(0)] } },
        reserved_start_end: { mapping: { contrast: [c(null)], eiger: [c(null)] } },
      },
      sequence: ['reserved_start_end', ...Array(6).fill('point'), 'reserved_start_end'],
    });
    await eiger.play({ frames: 6, shape: [4, 4] });
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(8));
    const events = await pipeline.result<Events>('events');
    for (let point = 0; point < 6; point++) expect(streamsOf(events, point + 1).streams).to.deep.equal({ eiger: point, contrast: 'contrast' });
    expect(events['0']).to.have.length(2);
    expect(events['7']).to.have.length(2);
    await expectNoBadFrames();
  });

  it('a fly scan announces lines × triggered frames, each line on one worker, the Contrast record on its last frame', async () => {
    const printed = await session.scan('flyscan', ['sx', 0, 1, 3, 'sy', 0, 1, 2, 0.1]);
    expect(printed[1]).to.match(/^dranspose: fly scan announced to .* \(requested streams eiger, i0, contrast\), mapping [0-9a-f-]{36}$/);
    expect(await pipeline.api('/api/v1/sequence')).to.deep.equal({
      parts: {
        point: { mapping: { eiger: [c(0), c(0), c(0), c(0)], contrast: [null, null, null, c(0)] } },
        reserved_start_end: { mapping: { contrast: [c(null)], eiger: [c(null)] } },
      },
      sequence: ['reserved_start_end', 'point', 'point', 'point', 'reserved_start_end'],
    });
    await eiger.play({ frames: 12, shape: [4, 4] });
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(14));
    const events = await pipeline.result<Events>('events');
    const lineWorkers: string[] = [];
    for (let line = 0; line < 3; line++) {
      const frames = [1, 2, 3, 4].map((k) => streamsOf(events, 4 * line + k));
      expect(frames.map((f) => f.streams), `line ${line}`).to.deep.equal([
        { eiger: 4 * line }, { eiger: 4 * line + 1 }, { eiger: 4 * line + 2 }, { eiger: 4 * line + 3, contrast: 'contrast' },
      ]);
      expect(new Set(frames.map((f) => f.worker)).size, `line ${line} on one worker`).to.equal(1);
      lineWorkers.push(frames[0]!.worker);
    }
    expect(new Set(lineWorkers), 'lines spread over both workers').to.deep.equal(new Set(['worker-1', 'worker-2']));
    await expectNoBadFrames();
  });
});

/** the top-level `class name` or `def name` block of a Python file, up to the next top-level statement */
function pythonBlock(file: string, keyword: 'class' | 'def', name: string): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((line) => new RegExp(`^${keyword} ${name}\\b`).test(line));
  if (start < 0) throw new Error(`${file} has no top-level ${keyword} ${name}`);
  const next = lines.findIndex((line, i) => i > start && /^[^\s#]/.test(line));
  return lines.slice(start, next < 0 ? undefined : next).join('\n').trimEnd();
}

describe('Contrast and Sardana hooks: the blocks each one-file hook carries alike', () => {
  const HOOKS = ['contrast', 'sardana'].map((system) => join(ROOT, 'tango', system, 'dranspose_hook.py'));

  for (const [keyword, name] of [['class', 'AnnounceError'], ['def', 'post_scan']] as const) {
    it(`${keyword} ${name} is the same in tango/contrast and tango/sardana`, () => {
      const [contrastBlock, sardanaBlock] = HOOKS.map((file) => pythonBlock(file, keyword, name));
      expect(contrastBlock.split('\n').length, `${keyword} ${name} has a body`).to.be.greaterThan(1);
      expect(sardanaBlock, `tango/sardana/dranspose_hook.py ${keyword} ${name} differs from tango/contrast's`).to.equal(contrastBlock);
    });
  }
});
