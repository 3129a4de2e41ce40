/** The command line as a user meets it: the demo, configuration errors, help. */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, deletePrefix, freePort } from './helpers/pipeline.js';
import { run } from './helpers/process.js';


async function failing(args: string[]): Promise<{ code: number; stderr: string }> {
  const error = await run(process.execPath, [BIN, ...args], { timeout: 30_000 }).then(() => undefined, (e) => e);
  expect(error, `dranspose ${args.join(' ')} should fail`).to.not.equal(undefined);
  return { code: error.code, stderr: error.stderr };
}

describe('dranspose command line', function () {
  this.timeout(120_000);

  it('demo --once runs a scan to the end and exits 0 with a summary', async () => {
    const pipeline = `clidemo${process.pid}`;
    try {
      const { stdout } = await run(process.execPath, [BIN, 'demo', '--once', '--frames', '100', '--rate', '0', '--pipeline', pipeline,
        '--port', String(await freePort()), '--reducer-port', String(await freePort())], { timeout: 110_000 });
      expect(stdout).to.match(/demo: 102 events \(100 images \+ start and end\)/);
      expect(stdout).to.match(/ROI sum of 100 images/);
      expect(stdout).to.contain('failed events 0, bad frames 0');
    } finally {
      await deletePrefix(`dranspose:${pipeline}:`);
    }
  });

  it('run stops with one line naming the bad key of a configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const cases: [string, string][] = [
      ['name: x\ningesters:\n  - name: i\n    streams:\n      - name: s\n        upstream: tcp://h:1\n', 'ingesters[0].streams[0].protocol'],
      ['name: x\ncontroller:\n  port: seventy\n', 'controller.port'],
      ['name: x\nworkers:\n  - count: 1\n    colour: blue\n', 'workers[0]'],
      ['name: x\n  bad: [indent\n', 'not YAML'],
    ];
    for (const [yaml, key] of cases) {
      const path = join(dir, `c${cases.findIndex((c) => c[0] === yaml)}.yaml`);
      writeFileSync(path, yaml);
      const { code, stderr } = await failing(['run', path]);
      expect(code).to.equal(1);
      const lines = stderr.trim().split('\n');
      expect(lines, stderr).to.have.length(1);
      expect(lines[0]).to.contain(key);
    }
    const missing = await failing(['run', join(dir, 'absent.yaml')]);
    expect(missing.stderr).to.contain('cannot read');
  });

  it('prints usage for an unknown command and names the missing option', async () => {
    expect((await failing(['nonsense'])).stderr).to.contain("unknown command 'nonsense'");
    expect((await failing(['worker'])).stderr).to.contain("required option '-n, --name <name>' not specified");
  });
});
