/**
 * Parts on separate hosts, for real: network namespaces make four hosts on one private subnet —
 * Redis and the controller on one, the detector emulator on a second, the ingester on a third, two
 * workers and the reducer on a fourth. They meet only through Redis and the addresses they
 * advertise there. And a default single-host `dranspose run` listens on loopback only.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BIN, ROOT } from './helpers/build.js';
import { waitFor, uniformSequence } from './helpers/pipeline.js';
import { NetworkLab, netnsRefusal } from './helpers/netns.js';
import { roiSums } from './helpers/stins-source.js';
import { nodeArgsFor } from '../src/core/node-flags.js';

const ROI = join(ROOT, 'examples/roi/roi.ts');
const PIPELINE = 'multihost';
const FRAMES = 60;
const SHAPE = [24, 20];

interface Ensemble { ingesters: { name: string; url: string; mapping_uuid: string | null }[]; workers: { name: string }[]; reducer: { url: string } | null }

describe('parts on separate hosts (network namespaces)', function () {
  this.timeout(240_000);
  let lab: NetworkLab | undefined;
  const output: string[] = [];

  before(async function () {
    const refusal = await netnsRefusal();
    if (refusal) {
      console.log(`      skipped: ${refusal}`);
      this.skip();
    }
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(output.join('').slice(-6000));
    output.length = 0;
    await lab?.destroy();
    lab = undefined;
  });

  it('a scan completes over the links and every result arrives', async () => {
    lab = new NetworkLab();
    await lab.build(['control', 'detector', 'ingest', 'compute']);
    const ip = lab.addresses;
    const redis = `redis://${ip.control}:6379`;
    const controller = `http://${ip.control}:5000`;
    // with its V8 flags, so that the process started is the part itself, and stopping it stops the part
    const dranspose = (host: string, command: string, ...args: string[]): ChildProcess =>
      lab!.start(host, process.execPath, [...nodeArgsFor(command, []), BIN, command, ...args, '--redis', redis, '--pipeline', PIPELINE], output);

    lab.start('control', 'redis-server', ['--bind', ip.control, '--port', '6379', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], output);
    await waitFor('Redis on the control host', async () => (await lab!.run('control', 'redis-cli', ['-h', ip.control, 'ping'])).stdout.includes('PONG'));
    dranspose('control', 'controller', '--host', ip.control, '--port', '5000');
    dranspose('ingest', 'ingester', '--name', 'detector-ingester', '--stream', `detector:stins:tcp://${ip.detector}:9999`,
      '--bind', 'tcp://0.0.0.0:0', '--advertise', ip.ingest);
    dranspose('compute', 'worker', '--name', 'worker-1', '--class', `${ROI}:RoiWorker`);
    dranspose('compute', 'worker', '--name', 'worker-2', '--class', `${ROI}:RoiWorker`);
    dranspose('compute', 'reducer', '--class', `${ROI}:RoiReducer`, '--bind', 'tcp://0.0.0.0:0', '--advertise', ip.compute, '--host', ip.compute, '--port', '5001');

    const ensemble = await waitFor('the controller to list the ingester, two workers and the reducer', async () => {
      const { status, body } = await lab!.fetch('control', `${controller}/api/v1/config`);
      const config = status === 200 ? JSON.parse(body) as Ensemble : undefined;
      return config && config.ingesters.length === 1 && config.workers.length === 2 && config.reducer ? config : undefined;
    }, 120_000, 500);
    // each part published the address the others reach it at
    expect(ensemble.ingesters[0].url).to.match(new RegExp(`^tcp://${ip.ingest.replaceAll('.', '\\.')}:\\d+$`));
    expect(ensemble.reducer!.url).to.match(new RegExp(`^tcp://${ip.compute.replaceAll('.', '\\.')}:\\d+$`));

    const posted = await lab.fetch('control', `${controller}/api/v1/sequence`, { method: 'POST', body: JSON.stringify(uniformSequence(['detector'], FRAMES)) });
    expect(posted.status, posted.body).to.equal(200);
    const mapping = JSON.parse(posted.body) as string;
    await waitFor('the ingester to adopt the trigger map', async () => {
      const config = JSON.parse((await lab!.fetch('control', `${controller}/api/v1/config`)).body) as Ensemble;
      return config.ingesters[0].mapping_uuid === mapping;
    }, 60_000, 300);

    const { stderr } = await lab.run('detector', process.execPath, [BIN, 'source', '--emulate', 'stins', '--frames', String(FRAMES), '--shape', SHAPE.join(','),
      '--bind', `tcp://${ip.detector}:9999`, '--rate', '200'], 120_000);
    expect(stderr).to.contain(`sent ${FRAMES + 2} messages`);
    const progress = await waitFor('the scan to finish', async () => {
      const p = JSON.parse((await lab!.fetch('control', `${controller}/api/v1/progress`)).body) as { finished: boolean };
      return p.finished ? p : undefined;
    }, 120_000, 300);
    expect(progress).to.include({ last_assigned: FRAMES + 2, completed_events: FRAMES + 2, total_events: FRAMES + 2, finished: true, outcome: 'complete' });

    const result = await lab.fetch('control', `http://${ip.compute}:5001/api/v1/result/roi_sum?single=true`);
    expect(JSON.parse(result.body)).to.deep.equal(roiSums(FRAMES, SHAPE));
  });

  it('a default single-host pipeline listens on loopback only', async () => {
    lab = new NetworkLab();
    await lab.build(['single']);
    const dir = mkdtempSync(join(tmpdir(), 'multihost-'));
    const config = join(dir, 'pipeline.yaml');
    writeFileSync(config, stringify({
      name: 'loopback',
      ingesters: [{ name: 'detector-ingester', streams: [{ name: 'detector', protocol: 'stins', upstream: 'tcp://127.0.0.1:9999' }] }],
      workers: [{ class: `${ROI}:RoiWorker`, count: 1 }],
      debug_workers: [{ name: 'debug' }],
      reducer: { class: `${ROI}:RoiReducer` },
    }));
    // no Redis answers in the new host: `run` starts its own, on loopback too
    lab.start('single', process.execPath, [BIN, 'run', config], output);
    await waitFor('the parts to register', async () => {
      const { status, body } = await lab!.fetch('single', 'http://127.0.0.1:5000/api/v1/config');
      const ensemble = status === 200 ? JSON.parse(body) as Ensemble : undefined;
      return ensemble && ensemble.ingesters.length === 1 && ensemble.workers.length === 2 && ensemble.reducer;
    }, 120_000, 500);
    const { stdout } = await lab.run('single', 'ss', ['-Hltn']);
    const listeners = stdout.trim().split('\n').map((line) => line.trim().split(/\s+/)[3]);
    // controller, reducer, debug worker, Redis, and the ingester's and reducer's zmq sockets
    expect(listeners.length).to.be.at.least(6);
    for (const address of listeners) expect(address, stdout).to.match(/^127\.0\.0\.1:\d+$/);
  });
});
