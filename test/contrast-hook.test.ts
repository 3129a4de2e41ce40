/**
 * Contrast → pipeline: a Contrast session (the stand-in in tango/contrast/tests, Debian's Python)
 * with the dranspose hook installed announces each scan, then publishes the StreamRecorder's
 * pickle-2 messages on zmq PUB; a live pipeline ingests them with the `contrast` protocol beside
 * STINS detector streams (`eiger`, and `panda` standing in for the PandABox's rows) and must finish
 * with exactly the announced events. Each case is one way beamlines run Contrast (issue 12).
 */
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { ROOT, completeScan, freePort, scanEndedWith, sleep, startPipeline, type TestPipeline } from './helpers/pipeline.js';
import { scanProblems } from './helpers/upstream-harness.js';
import { PYTHON, stopProcess } from './helpers/process.js';
import { StinsSource } from './helpers/stins-source.js';
import { pythonUnittests } from './helpers/tango.js';
import type { RecordResult } from './payloads/records.js';

const TESTS = join(ROOT, 'tango/contrast/tests');
const RECORDS = join(ROOT, 'test/payloads/records.ts');
type Events = Record<string, RecordResult[]>;
const c = (constraint: number | null) => [{ tags: ['generic'], constraint }];

interface ScanRequest { scan: string; args: unknown[]; macro?: boolean; interrupt_before?: number; active?: Record<string, boolean> }

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

  /** `likeContrast`: a plain PUB that sends at once, as Contrast does (no wait for a subscriber) */
  static start(port: number, url: string, likeContrast = false): ContrastSession {
    return new ContrastSession(spawn(PYTHON, ['-B', join(TESTS, 'contrast_standin.py'), String(port), url, ...(likeContrast ? ['--no-wait'] : [])]));
  }

  async next<T>(timeoutMs = 30_000): Promise<T> {
    const line = this.pending.shift() ?? await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Contrast stand-in said nothing for ${timeoutMs} ms:\n${this.stderr}`)), timeoutMs);
      this.waiting = (l) => { clearTimeout(timer); this.waiting = undefined; resolve(l); };
    });
    return JSON.parse(line) as T;
  }

  async scan(request: ScanRequest): Promise<string[]> {
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    return (await this.next<{ printed: string[] }>()).printed;
  }

  /** closes its stdin, which ends it (SIGKILL if it has not exited 5 s later) */
  async stop(): Promise<void> {
    await stopProcess(this.child, { ask: (child) => child.stdin!.end() });
  }
}

/** stream → frame number (STINS) or status (Contrast) of the one result of an event */
function streamsOf(events: Events, event: number): { worker: string; streams: Record<string, number | string | null> } {
  expect(events[event], `event ${event}`).to.have.length(1);
  const [result] = events[event]!;
  return {
    worker: result!.worker,
    streams: Object.fromEntries(Object.entries(result!.streams).map(([s, v]) => [s, 'record' in v ? (v.record as { status: string }).status : v.frame])),
  };
}

/** the Contrast record of an event as the worker saw it */
function recordOf(events: Events, event: number): Record<string, unknown> {
  const summary = events[event]![0]!.streams.contrast!;
  if (!('record' in summary)) throw new Error(`event ${event} holds no Contrast record`);
  return summary.record as Record<string, unknown>;
}

async function expectNoBadFrames(pipeline: TestPipeline): Promise<void> {
  const status = await pipeline.api<{ bad_frames: number; bad_reasons: unknown }>('/api/v1/status');
  expect(status.bad_frames, JSON.stringify(status.bad_reasons)).to.equal(0);
}

describe('Contrast hook (live pipeline, Contrast stand-in)', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline;
  let eiger: StinsSource;
  let panda: StinsSource;
  let session: ContrastSession;

  before(async () => {
    [eiger, panda] = [await StinsSource.bind(), await StinsSource.bind()];
    const port = await freePort();
    pipeline = await startPipeline({
      ingesters: [
        { name: 'contrast-ingester', streams: [{ name: 'contrast', protocol: 'contrast', upstream: `tcp://127.0.0.1:${port}` }] },
        { name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] },
        { name: 'panda-ingester', streams: [{ name: 'panda', protocol: 'stins', upstream: panda.endpoint }] },
      ],
      workers: [{ class: `${RECORDS}:RecordWorker`, count: 2 }], reducer: { class: `${RECORDS}:RecordReducer` },
    }, { ingesters: 3, workers: 2 });
    session = ContrastSession.start(port, pipeline.controller);
    expect(await session.next()).to.deep.equal({ ready: true });
  });

  after(async () => {
    await session?.stop();
    await pipeline?.stop();
    eiger?.close();
    panda?.close();
  });

  it("runs the Python hook's own tests against the stand-in", async () => {
    await pythonUnittests(TESTS, 13);
  });

  it('a mesh run from a script (description None) announces one point per position; every record and frame arrives', async () => {
    const printed = await session.scan({ scan: 'mesh', args: ['sx', 0, 1, 1, 'sy', 0, 1, 2, 0.1] });
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
    for (let point = 0; point < 6; point++) expect(streamsOf(events, point + 1).streams).to.deep.equal({ eiger: point, contrast: 'running' });
    expect(events['0']).to.have.length(2);
    expect(recordOf(events, 0)).to.deep.include({ status: 'started', description: null });
    expect(events['7']).to.have.length(2);
    expect(recordOf(events, 7)).to.deep.include({ status: 'finished', description: null });
    await expectNoBadFrames(pipeline);
  });

  it('a fly scan: lines × triggered frames, each line on one worker, the PandABox on every frame (hw_trig_n × burst_n), Contrast on the last', async () => {
    const printed = await session.scan({ scan: 'flyscan', args: ['sx', 0, 1, 3, 'sy', 0, 1, 2, 0.1], macro: true, active: { panda: true } });
    expect(printed[1]).to.match(/^dranspose: fly scan announced to .* \(requested streams eiger, i0, panda, contrast\), mapping [0-9a-f-]{36}$/);
    expect(await pipeline.api('/api/v1/sequence')).to.deep.equal({
      parts: {
        point: { mapping: { eiger: [c(0), c(0), c(0), c(0)], panda: [c(0), c(0), c(0), c(0)], contrast: [null, null, null, c(0)] } },
        reserved_start_end: { mapping: { contrast: [c(null)], eiger: [c(null)], panda: [c(null)] } },
      },
      sequence: ['reserved_start_end', 'point', 'point', 'point', 'reserved_start_end'],
    });
    await Promise.all([eiger.play({ frames: 12, shape: [4, 4] }), panda.play({ frames: 12, shape: [1, 2] })]);
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(14));
    const events = await pipeline.result<Events>('events');
    const lineWorkers: string[] = [];
    for (let line = 0; line < 3; line++) {
      const frames = [1, 2, 3, 4].map((k) => streamsOf(events, 4 * line + k));
      expect(frames.map((f) => f.streams), `line ${line}`).to.deep.equal([0, 1, 2, 3].map((k) => ({
        eiger: 4 * line + k, panda: 4 * line + k, ...(k === 3 ? { contrast: 'running' } : {}),
      })));
      expect(new Set(frames.map((f) => f.worker)).size, `line ${line} on one worker`).to.equal(1);
      lineWorkers.push(frames[0]!.worker);
    }
    expect(new Set(lineWorkers), 'lines spread over both workers').to.deep.equal(new Set(['worker-1', 'worker-2']));
    expect(recordOf(events, 0)).to.deep.include({ description: 'flyscan sx 0 1 3 sy 0 1 2 0.1' });
    await expectNoBadFrames(pipeline);
  });

  it('a step scan right after a fly scan (hw_trig left on, hw_trig_n stale) is a step scan', async () => {
    const printed = await session.scan({ scan: 'mesh', args: ['sx', 0, 1, 2, 0.1], active: { panda: false } });
    expect(printed[1]).to.match(/^dranspose: step scan announced/);
    expect((await pipeline.api<{ sequence: string[] }>('/api/v1/sequence')).sequence).to.have.length(5);
    await eiger.play({ frames: 3, shape: [4, 4] });
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(5));
    const events = await pipeline.result<Events>('events');
    expect([1, 2, 3].map((e) => streamsOf(events, e).streams)).to.deep.equal([0, 1, 2].map((frame) => ({ eiger: frame, contrast: 'running' })));
    await expectNoBadFrames(pipeline);
  });

  it("records of a writing detector hold h5py's ExternalLink: the worker gets it as an opaque object and the rest intact", async () => {
    await session.scan({ scan: 'loopscan', args: [2, 0.1], active: { writer: true } });
    await eiger.play({ frames: 3, shape: [4, 4] });
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(5));
    await expectNoBadFrames(pipeline);
    const events = await pipeline.result<Events>('events');
    const first = events['1']![0]!.streams.contrast as { record: Record<string, unknown>; keys: string[] };
    expect(first.keys).to.deep.equal(['eiger', 'i0', 'writer', 'dt', 'status']);
    expect(first.record.eiger).to.deep.equal({ type: 'Link', filename: '/data/standin/raw/eiger.h5', path: '/entry/instrument/eiger/', universal: true });
    const link = first.record.writer as { opaque: string; state: { _filename: string; _path: string } };
    expect(link.opaque).to.match(/^h5py\..*_hl\.group\.ExternalLink$/);
    expect(link.state._filename).to.match(/^\/tmp\/Dummy_scan_\d{3}_image_000\.hdf5$/);
    expect(link.state._path).to.equal('entry/measurement/data');
  });

  it('Ctrl-C: the interrupted message ends the scan, the positions never measured reported as not received', async () => {
    const printed = await session.scan({ scan: 'mesh', args: ['sx', 0, 1, 5, 0.1], interrupt_before: 2 });
    expect(printed[1]).to.match(/^dranspose: step scan announced/);
    // Contrast stops the detectors too: the Eiger ends its series after the 2 frames it took
    await eiger.play({ frames: 2, shape: [4, 4] });
    // positions 3 to 6 (events 3 to 6) never came from either stream: 8 missing frames
    expect(await pipeline.waitForFinish()).to.deep.equal(scanEndedWith(8, { missing: 8 }));
    const events = await pipeline.result<Events>('events');
    expect([1, 2].map((e) => streamsOf(events, e).streams)).to.deep.equal([{ eiger: 0, contrast: 'running' }, { eiger: 1, contrast: 'running' }]);
    const { missing } = await scanProblems(pipeline);
    expect(missing.map((m) => `${m.event} ${m.component.split('/')[1]}`).sort()).to.deep.equal(
      [3, 4, 5, 6].flatMap((e) => [`${e} contrast`, `${e} eiger`]));
    expect(recordOf(events, 7)).to.include({ status: 'interrupted' });
  });
});

describe('Contrast: the first scan of a fresh pipeline (Contrast sends at once, no subscriber wait)', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline;
  let session: ContrastSession;

  before(async () => {
    const port = await freePort();
    pipeline = await startPipeline({
      ingesters: [{ name: 'contrast-ingester', streams: [{ name: 'contrast', protocol: 'contrast', upstream: `tcp://127.0.0.1:${port}` }] }],
      workers: [{ class: `${RECORDS}:RecordWorker`, count: 2 }], reducer: { class: `${RECORDS}:RecordReducer` },
    }, { ingesters: 1, workers: 2 });
    // Contrast starts its StreamRecorder with the session, then the user types the first scan
    session = ContrastSession.start(port, pipeline.controller, true);
    expect(await session.next()).to.deep.equal({ ready: true });
  });

  after(async () => {
    await session?.stop();
    await pipeline?.stop();
  });

  it('1.5 s after the recorder started, the first scan (announced by the hook) receives every message Contrast sends', async () => {
    await sleep(1500);
    const printed = await session.scan({ scan: 'loopscan', args: [3, 0.1], active: { eiger: false } });
    expect(printed[1]).to.match(/^dranspose: step scan announced/);
    expect(await pipeline.waitForFinish(20_000)).to.deep.equal(completeScan(6));
    const events = await pipeline.result<Events>('events');
    expect(recordOf(events, 0)).to.include({ status: 'started' });
    expect([1, 2, 3, 4].map((e) => (recordOf(events, e) as { i0: { data: number[] } }).i0.data)).to.deep.equal([[1], [2], [3], [4]]);
    expect(recordOf(events, 5)).to.include({ status: 'finished' });
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

  for (const [keyword, name] of [['class', 'AnnounceError'], ['def', 'auth_headers'], ['def', 'post_scan']] as const) {
    it(`${keyword} ${name} is the same in tango/contrast and tango/sardana`, () => {
      const [contrastBlock, sardanaBlock] = HOOKS.map((file) => pythonBlock(file, keyword, name));
      expect(contrastBlock.split('\n').length, `${keyword} ${name} has a body`).to.be.greaterThan(1);
      expect(sardanaBlock, `tango/sardana/dranspose_hook.py ${keyword} ${name} differs from tango/contrast's`).to.equal(contrastBlock);
    });
  }
});
