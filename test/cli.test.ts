/** The command line as a user meets it: the demo, configuration errors, help. */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, deletePrefix, freePort, waitFor } from './helpers/pipeline.js';
import { run, stopProcess } from './helpers/process.js';

/** a process that has not exited (a zombie nobody reaped yet has) */
function running(pid: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

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
      expect(stdout).to.match(/demo: scan complete: 102 of 102 events \(100 images \+ start and end\)/);
      expect(stdout).to.match(/ROI sum of 100 images/);
      expect(stdout).to.contain('failed events 0, lost events 0, missing frames 0, bad frames 0');
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

  it('runs an ingester started without its V8 flags again with them, and stops it with its launcher', async () => {
    const pipeline = `cliflags${process.pid}`;
    const launcher = spawn(process.execPath, [BIN, 'ingester', '--name', 'flagged', '--stream', 'eiger:stins:tcp://127.0.0.1:1',
      '--pipeline', pipeline], { stdio: 'ignore' });
    try {
      const childArgs = await waitFor('the ingester child', async () => {
        const { stdout } = await run('ps', ['--ppid', String(launcher.pid), '-o', 'pid=']).catch(() => ({ stdout: '' }));
        const pid = stdout.trim().split('\n')[0]?.trim();
        return pid ? { pid, args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') } : undefined;
      });
      expect(childArgs.args).to.include.members(['--initial-old-space-size=256', '--expose-gc', '--single-threaded-gc', 'ingester', 'flagged']);
      launcher.kill('SIGKILL');
      await waitFor('the ingester to stop with its launcher', async () => !running(childArgs.pid), 15_000);
    } finally {
      await stopProcess(launcher);
      await deletePrefix(`dranspose:${pipeline}:`);
    }
  });
});
