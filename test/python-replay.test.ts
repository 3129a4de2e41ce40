/**
 * `dranspose replay` with Python payloads as the original's users run it: dotted classes from the
 * working directory, parameter files (JSON, CBOR, pickle), `.pkls` captures written with Python's
 * pickle, a Python source class, several protocols parsed by the dranspose middlewares, a
 * TypeScript worker with a Python reducer, the result API on --port, and classes that cannot run.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'cbor-x';
import { BIN, ROOT, waitFor } from './helpers/pipeline.js';
import { fixture } from './helpers/fixtures.js';
import { PYTHON, run, stopProcess } from './helpers/process.js';

const PAYLOADS = join(ROOT, 'test/payloads/python');
const PACKETS = join(PAYLOADS, 'packets.py');
const XRD_MEANS = [9.25, 11.25, 11.75, 4.25, 2.25, 3.0, 4.75, 7.75, 10.75];
const XRD_MEANS_3_7 = [8.88888888888889, 8.666666666666666, 8.11111111111111, 6.0, 6.666666666666667, 8.222222222222221,
  10.666666666666666, 12.444444444444445, 14.333333333333334];
const PYTHON_ENV = { ...process.env, PYTHONPATH: join(ROOT, 'python') };

/** runs `dranspose replay` in `cwd`; the publish it wrote, and what it printed */
async function replay<T = Record<string, unknown>>(args: string[], cwd = ROOT, env = process.env): Promise<{ publish: T; text: string; stderr: string }> {
  const out = join(mkdtempSync(join(tmpdir(), 'py-replay-')), 'publish.json');
  const { stderr } = await run(process.execPath, [BIN, 'replay', ...args, '--result', out], { cwd, env });
  const text = readFileSync(out, 'utf8');
  return { publish: JSON.parse(text) as T, text, stderr };
}

function means(reduced: Record<string, number>): number[] {
  return Object.keys(reduced).sort((a, b) => Number(a) - Number(b)).map((k) => reduced[k]);
}

describe('dranspose replay with Python payloads', function () {
  this.timeout(120_000);

  it('loads dotted classes from the working directory and gives numpy results value by value; close(context) at the end', async function () {
    const dump = fixture(this, 'dump_xrd.cbors');
    const marker = join(mkdtempSync(join(tmpdir(), 'py-close-')), 'closed.txt');
    const { publish, stderr } = await replay<{ reduced: Record<string, number>; rows: number[]; images: Record<string, number[][]>;
      meta: Record<string, unknown>; timer_calls: number; finished: boolean; map: { x: number[] } }>(
      ['-w', 'xrd:CornerWorker', '-r', 'xrd:CornerReducer', '-f', dump], PAYLOADS, { ...process.env, XRD_CLOSE_MARKER: marker });
    expect(stderr).to.match(/replay: 11 events, 11 results, 0 failures/);
    // the latest instance's close(context), when the process ends (both replay workers live in one Python host)
    expect(readFileSync(marker, 'utf8')).to.match(/^replay-worker-\d closed after 1 scans\n$/);
    expect(means(publish.reduced)).to.deep.equal(XRD_MEANS);
    expect(publish.images.frame0.slice(0, 3)).to.deep.equal([[1, 18, 0, 7, 17, 19, 17, 6, 0, 18], [19, 0, 19, 12, 3, 0, 4, 14, 19, 0],
      [0, 17, 6, 0, 6, 11, 6, 0, 5, 18]]);
    // every image's row sums, added up; the image sums of protocols.md §4.10 are their totals
    expect(publish.rows.reduce((a, b) => a + b, 0)).to.equal(991 + 1001 + 1041 + 1076 + 1166 + 1268 + 1363 + 1422 + 1481);
    // context is one per worker, kept across scans: a replay is one scan
    expect(publish.meta).to.deep.equal({ filename: 'output/xrd.h5', scans: 1 });
    expect(publish.timer_calls).to.be.at.least(1);
    expect(publish.finished).to.equal(true);
    expect(publish.map.x).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('takes parameters from JSON, CBOR and pickle files; a FileParameter brings its content and its name', async function () {
    const dump = fixture(this, 'dump_xrd.cbors');
    const dir = mkdtempSync(join(tmpdir(), 'py-params-'));
    const entries = [{ name: 'till_x', data: '3' }, { name: 'from_y', data: '7' }, { name: 'mask', data: 'abcde' }, { name: 'mask_file', data: 'mask.edf' }];
    writeFileSync(join(dir, 'p.json'), JSON.stringify(entries));
    writeFileSync(join(dir, 'p.cbor'), encode(entries.map((e) => ({ name: e.name, data: Buffer.from(e.data) }))));
    await run(PYTHON, ['-c', `import pickle, json, sys
entries = json.load(open(sys.argv[1]))
pickle.dump([{"name": e["name"], "data": e["data"].encode()} for e in entries], open(sys.argv[2], "wb"))`, join(dir, 'p.json'), join(dir, 'p.pkl')]);
    for (const file of ['p.json', 'p.cbor', 'p.pkl']) {
      const { publish } = await replay<{ reduced: Record<string, number>; mask: unknown[] }>(
        ['-w', `${PAYLOADS}/xrd.py:CornerWorker`, '-r', `${PAYLOADS}/xrd.py:CornerReducer`, '-f', dump, '-p', join(dir, file)]);
      means(publish.reduced).forEach((v, i) => expect(v, `${file} event ${i + 1}`).to.be.closeTo(XRD_MEANS_3_7[i], 1e-12));
      expect(publish.mask, file).to.deep.equal([5, 'mask.edf']);
    }
  });

  it('replays a .pkls written with Python\'s pickle, of events and of raw frames', async function () {
    const dump = fixture(this, 'dump_xrd.cbors');
    const albaem = fixture(this, 'albaem-dump.cbors');
    const dir = mkdtempSync(join(tmpdir(), 'py-pkls-'));
    await run(PYTHON, ['-c', `import io, pickle, sys, cbor2
from dranspose.event import InternalWorkerMessage, StreamData
def items(path, hook=None):
    data = open(path, "rb").read()
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        yield cbor2.load(stream, tag_hook=hook)
def message(decoder, tag):
    if tag.tag == 42878:
        return StreamData(typ=tag.value[0], frames=tag.value[1])
    if tag.tag == 42877:
        return InternalWorkerMessage(event_number=tag.value[0], streams=tag.value[1])
    return tag
with open(sys.argv[3], "wb") as out:
    for event in items(sys.argv[1], message):
        pickle.dump(event, out)
with open(sys.argv[4], "wb") as out:
    for frames in items(sys.argv[2]):
        pickle.dump(frames, out)
`, dump, albaem, join(dir, 'xrd.pkls'), join(dir, 'albaem.pkls')], { env: PYTHON_ENV });
    const { publish } = await replay<{ reduced: Record<string, number> }>(['-w', `${PAYLOADS}/xrd.py:CornerWorker`, '-r', `${PAYLOADS}/xrd.py:CornerReducer`, '-f', join(dir, 'xrd.pkls')]);
    expect(means(publish.reduced)).to.deep.equal(XRD_MEANS);
    const raw = await replay<{ events: Record<string, { albaem: { frame: number; channel1: number; acquired: number } }> }>(
      ['-w', `${PACKETS}:PacketWorker`, '-r', `${PACKETS}:PacketReducer`, '-f', `albaem:${join(dir, 'albaem.pkls')}`]);
    expect(Object.values(raw.publish.events).map((e) => e.albaem.frame)).to.deep.equal([0, 1, 2, 3]);
    expect(raw.publish.events['1'].albaem.channel1).to.equal(-2.8302592615927417e-11);
  });

  it('plays a Python source class merged by event number', async function () {
    const { publish } = await replay<{ reduced: Record<string, number>; meta: { filename: string } }>(
      ['-w', 'xrd:CornerWorker', '-r', 'xrd:CornerReducer', '--source', 'source:RampSource'], PAYLOADS);
    // a ramp image's corner [:2, 8:] holds 8, 9, 18, 19 plus the frame number
    expect(means(publish.reduced)).to.deep.equal([13.5, 14.5, 15.5, 16.5, 17.5]);
    expect(publish.meta.filename).to.equal('ramp');
  });

  it('parses Contrast with Xspress3, LeCroy, AlbaEM, PandA PCAP and Eiger captures with the middlewares', async function () {
    const packets = (...files: string[]) => replay<{ events: Record<string, Record<string, Record<string, unknown>>> }>(
      ['-w', `${PACKETS}:PacketWorker`, '-r', `${PACKETS}:PacketReducer`, ...files.flatMap((f) => ['-f', f])]);
    const fluorescence = await replay<{ map: { x: Record<string, number>; y: Record<string, number>; roi1: Record<string, number> } }>(
      ['-w', `${PACKETS}:PacketWorker`, '-r', `${PACKETS}:FluorescenceReducer`, '-f', `contrast=contrast:${fixture(this, 'contrast-dump.cbors')}`,
        '-f', `xspress3=xspress3:${fixture(this, 'xspress3mini-dump20.cbors')}`]);
    const { map } = fluorescence.publish;
    expect(Object.values(map.roi1)).to.deep.equal([81, 76, 67, 49, 69, 97, 75, 58, 81, 77, 91, 81, 76, 67, 49, 69, 97, 75, 58, 81]);
    expect(map.x['1']).to.equal(-2.004051863);
    expect(map.y['20']).to.equal(2.001959397);

    const continuous = (await packets(`lecroy:${fixture(this, 'maui-02-continuous-3.cbor.gz')}`)).publish.events;
    expect(continuous['1'].lecroy.max).to.deep.equal([[0.1631136015521406], [0.220660299555675]]);
    expect(continuous['2'].lecroy.ts).to.deep.equal([[1740563664.335], [1740563664.335]]);
    const sequential = (await packets(`lecroy:${fixture(this, 'maui-02-sequential-3.cbor.gz')}`)).publish.events;
    expect((sequential['1'].lecroy.max as number[][])[0].slice(0, 3)).to.deep.equal([0.02266473765757837, 0.025125668939836032, 0.020950874800291786]);
    expect((sequential['2'].lecroy.max as number[][])[0][0]).to.equal(0.022609806155742262);

    const albaem = await packets(`albaem:${fixture(this, 'albaem-dump.cbors')}`);
    expect(albaem.publish.events['1'].albaem).to.deep.include({ frame: 0, channel1: -2.8302592615927417e-11 });
    // the 64-bit timestamp (beyond 2^53) stays exact on the way; JSON.parse would round it, so it is read as text
    expect(albaem.text).to.include('"acquired":1704807770443944912');

    const panda = (await packets(`pcap:${fixture(this, 'pcap-zmq.cbors')}`)).publish.events;
    const rows = Object.values(panda).map((e) => e.pcap as { frame: number; energy: number });
    expect(rows).to.have.length(1500);
    expect(rows[0]).to.deep.equal({ frame: 0, energy: 8879.101048716273 });
    expect(rows[1499].energy).to.equal(9178.90056771702);

    const eiger = (await packets(`eiger-legacy:${fixture(this, 'eiger-small.cbors')}`)).publish.events;
    expect(eiger['0']['eiger-legacy']).to.deep.equal({ width: 3108, col_id: 128579 });
    expect(eiger['1']['eiger-legacy']).to.deep.equal({ encoding: 'bs32-lz4<', real_time: 9999900, blob: 20000 });
  });

  it('runs a TypeScript worker with a Python reducer', async function () {
    const { publish } = await replay<{ events: Record<string, number> }>(
      ['-w', `${ROOT}/test/payloads/xrd.ts:CornerMeanWorker`, '-r', `${PACKETS}:PacketReducer`, '-f', fixture(this, 'dump_xrd.cbors')]);
    expect(means(publish.events)).to.deep.equal(XRD_MEANS);
  });

  it('serves the result API and HDF5 REST on --port and keeps serving with --keep-alive', async function () {
    const dump = fixture(this, 'dump_xrd.cbors');
    const child = spawn(process.execPath, [BIN, 'replay', '-w', 'xrd:CornerWorker', '-r', 'xrd:CornerReducer', '-f', dump, '--port', '0', '--keep-alive'],
      { cwd: PAYLOADS, stdio: ['ignore', 'ignore', 'pipe'] });
    const output: string[] = [];
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    try {
      await waitFor('the replay to finish and keep serving', async () => /serving results until Ctrl-C/.test(output.join('')));
      const base = /results at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output.join(''))![1];
      const root = await (await fetch(`${base}/`)).json() as { root: string };
      expect(root.root).to.equal('g-h5dict-2F');
      const id = `d-h5dict-${Buffer.from('/rows').toString('hex').toUpperCase()}`;
      expect(await (await fetch(`${base}/datasets/${id}`)).json()).to.deep.include({ shape: { class: 'H5S_SIMPLE', dims: [10] } });
      const matches = await (await fetch(`${base}/api/v1/result/reduced.1`)).json();
      expect(matches).to.deep.equal([9.25]);
      expect(await (await fetch(`${base}/api/v1/parameter/till_x`)).text()).to.equal('2');
    } finally {
      await stopProcess(child, { ask: (c) => c.kill('SIGINT') });
    }
    expect(child.exitCode).to.equal(0);
  });

  it('reports classes that cannot run: one line at start, or a failure per event with the reason', async function () {
    const dump = fixture(this, 'dump_xrd.cbors');
    const reducer = `${PAYLOADS}/xrd.py:CornerReducer`;
    for (const [worker, message] of [
      [`${PAYLOADS}/broken_import.py:Worker`, /importing .*broken_import.py failed: ModuleNotFoundError: No module named 'a_module_that_does_not_exist'/],
      [`${PAYLOADS}/bad.py:NoProcessEvent`, /NoProcessEvent has no process_event method/],
      [`${PAYLOADS}/bad.py:Missing`, /bad.py has no class Missing/],
      ['no_such_module:Worker', /importing no_such_module failed: ModuleNotFoundError/],
    ] as const) {
      const error = await run(process.execPath, [BIN, 'replay', '-w', worker, '-r', reducer, '-f', dump]).then(() => undefined, (e) => e);
      expect(error, worker).to.not.equal(undefined);
      expect(error.code, worker).to.equal(1);
      const lines = error.stderr.trim().split('\n').filter((l: string) => l.startsWith('dranspose:'));
      expect(lines, worker).to.have.length(1);
      expect(lines[0], worker).to.match(message);
    }
    const failing = await run(process.execPath, [BIN, 'replay', '-w', `${PAYLOADS}/bad.py:FailsInInit`, '-r', reducer, '-f', dump]).then(() => undefined, (e) => e);
    expect(failing.code).to.equal(2);
    expect(failing.stderr).to.match(/constructing FailsInInit failed: RuntimeError: no detector calibration \(bad.py:\d+ in __init__\)/);
    expect(failing.stderr).to.match(/replay: 11 events, 0 results, 13 failures/);
  });
});
