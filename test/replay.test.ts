/** Offline replay of a real ingester dump through the CLI, and of raw captures through protocols. */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'cbor-x';
import { BIN, ROOT, replayResult } from './helpers/pipeline.js';
import { fixture } from './helpers/fixtures.js';
import { run } from './helpers/process.js';

const XRD = join(ROOT, 'test/payloads/xrd.ts');

async function replayXrd(dump: string, extra: string[] = []): Promise<{ reduced: number[] }> {
  return await replayResult(['-w', `${XRD}:CornerMeanWorker`, '-r', `${XRD}:CornerMeanReducer`, '-f', dump, ...extra]);
}

describe('dranspose replay', function () {
  this.timeout(60_000);

  it('replays dump_xrd.cbors with the tutorial worker and gives the reference means', async function () {
    const dump = fixture(this, 'dump_xrd.cbors');
    const { reduced } = await replayXrd(dump);
    expect(reduced).to.deep.equal([0, 9.25, 11.25, 11.75, 4.25, 2.25, 3, 4.75, 7.75, 10.75]);
  });

  it('takes parameters from a JSON or a CBOR file', async function () {
    const dump = fixture(this, 'dump_xrd.cbors');
    const dir = mkdtempSync(join(tmpdir(), 'params-'));
    const entries = [{ name: 'till_x', data: '3' }, { name: 'from_y', data: '7' }];
    const expected = [0, 8.88888888888889, 8.666666666666666, 8.11111111111111, 6.0, 6.666666666666667,
      8.222222222222221, 10.666666666666666, 12.444444444444445, 14.333333333333334];
    writeFileSync(join(dir, 'p.json'), JSON.stringify(entries));
    writeFileSync(join(dir, 'p.cbor'), encode(entries.map((e) => ({ name: e.name, data: Buffer.from(e.data) }))));
    for (const file of ['p.json', 'p.cbor']) {
      const { reduced } = await replayXrd(dump, ['-p', join(dir, file)]);
      reduced.forEach((v, i) => expect(v, `${file} event ${i}`).to.be.closeTo(expected[i], 1e-12));
    }
  });

  it('fails with one clear line for a missing class or a raw capture without its protocol', async function () {
    const dump = fixture(this, 'albaem-dump.cbors');
    for (const [args, message] of [
      [['-w', `${XRD}:Nope`, '-r', `${XRD}:CornerMeanReducer`, '-f', dump], 'Nope is not a class with a processEvent method'],
      [['-w', `${XRD}:CornerMeanWorker`, '-r', `${XRD}:CornerMeanReducer`, '-f', dump], 'is a raw upstream capture; name its protocol'],
    ] as const) {
      const error = await run(process.execPath, [BIN, 'replay', ...args]).then(() => undefined, (e) => e);
      expect(error, args.join(' ')).to.not.equal(undefined);
      expect(error.code).to.equal(1);
      expect(error.stderr.trim().split('\n').filter((l: string) => l.startsWith('dranspose:'))).to.have.length(1);
      expect(error.stderr).to.contain(message);
    }
  });
});
