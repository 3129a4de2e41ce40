/**
 * The package as a user gets it: packed, installed into a folder without "type": "module", a
 * TypeScript payload there replayed on a capture, type-checked under a default `tsc --init`; and
 * `dranspose init` there makes a project whose own test passes.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/build.js';
import { run } from './helpers/process.js';
import { RawCaptureWriter } from '../src/core/capture/index.js';
import { stinsSeries } from '../src/protocols/stins/emulator.js';

const TSC = join(ROOT, 'node_modules/.bin/tsc');

/** a payload as users write them: a module of its own beside it reading a file next to itself, a package of the project */
const WORKER = `import type { EventData, ResultData } from 'dranspose';
import { stins } from 'dranspose';
import offset from 'beamline-offsets';
import { scaled } from './lib/scale.js';

export class W {
  processEvent(event: EventData) {
    const packet = stins.parse(event.streams.detector!);
    if (packet.kind !== 'image') return undefined;
    return { frame: scaled(Number(packet.header.frame)) + offset };
  }
}

export class R {
  publish = { frames: [] as number[] };
  processResult(result: ResultData<{ frame: number }>) {
    this.publish.frames[result.eventNumber - 1] = result.payload.frame;
  }
}
`;
const SCALE = `import { readFileSync } from 'node:fs';
const { factor } = JSON.parse(readFileSync(new URL('./factor.json', import.meta.url), 'utf8')) as { factor: number };
export const scaled = (value: number): number => value * factor;
`;

/** tsc's error lines (file(line,col): error …) */
async function typeErrors(cwd: string): Promise<string[]> {
  const outcome = await run(TSC, ['--noEmit'], { cwd }).then(() => ({ stdout: '' }), (e) => e);
  return outcome.stdout.split('\n').filter((line: string) => line.includes('error TS'));
}

describe('the installed package', function () {
  this.timeout(300_000);
  let app: string;
  let tarball: string;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dranspose-package-'));
    // dist/ is fresh (helpers/build); the prepack clean build is left out so as not to empty it under other tests
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, packed.filename);
    const files = packed.files.map((f) => f.path);
    expect(files).to.include.members(['bin/dranspose.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'templates/payload/src/worker.ts']);
    // the native decoders' sources and their install step are the package's own
    expect(files.filter((f) => /^(test|src|scripts)\/|tsbuildinfo|\/tests\//.test(f) && f !== 'scripts/install-native.js'), 'tests and sources stay out').to.deep.equal([]);

    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app });
    const writer = await RawCaptureWriter.open(join(app, 'capture.cbors'));
    for (const message of stinsSeries({ frames: 7, shape: [8, 8] })) await writer.write(message);
    await writer.close();
    writeFileSync(join(app, 'worker.ts'), WORKER);
    mkdirSync(join(app, 'lib'));
    writeFileSync(join(app, 'lib/scale.ts'), SCALE);
    writeFileSync(join(app, 'lib/factor.json'), '{"factor": 10}');
    mkdirSync(join(app, 'node_modules/beamline-offsets'));
    writeFileSync(join(app, 'node_modules/beamline-offsets/package.json'), JSON.stringify({ name: 'beamline-offsets', version: '1.0.0', main: 'index.js' }));
    writeFileSync(join(app, 'node_modules/beamline-offsets/index.js'), 'module.exports = 0.5;\n');
  });

  it('replays a TypeScript payload in a folder without "type": "module"', async () => {
    await run('npx', ['dranspose', 'replay', '-w', 'worker.ts:W', '-r', 'worker.ts:R', '-f', 'detector=stins:capture.cbors', '--result', 'out.json'], { cwd: app });
    expect(JSON.parse(readFileSync(join(app, 'out.json'), 'utf8'))).to.deep.equal({ frames: [0.5, 10.5, 20.5, 30.5, 40.5, 50.5, 60.5] });
  });

  it('names the file and line of a TypeScript payload that does not compile', async () => {
    writeFileSync(join(app, 'broken.ts'), 'export class W {\n  processEvent() { return 1 +* 2; }\n}\n');
    const error = await run('npx', ['dranspose', 'replay', '-w', 'broken.ts:W', '-r', 'worker.ts:R', '-f', 'detector=stins:capture.cbors'], { cwd: app }).then(() => undefined, (e) => e);
    expect(error?.stderr).to.match(/class broken\.ts:W: importing .*broken\.ts failed: broken\.ts:2:\d+: /);
    rmSync(join(app, 'broken.ts'));
  });

  it('type-checks under a default tsc --init without an error inside node_modules/dranspose, also with skipLibCheck off', async () => {
    await run(TSC, ['--init'], { cwd: app });
    const inPackage = (errors: string[]) => errors.filter((line) => line.startsWith('node_modules/'));
    const defaults = await typeErrors(app);
    expect(inPackage(defaults)).to.deep.equal([]);
    // what remains is about the payload's own files (TypeScript's rules for a CommonJS folder, the project's untyped package)
    for (const line of defaults) expect(line).to.match(/^(worker|lib\/scale)\.ts\(\d+,\d+\): error TS\d+:/);
    const config = join(app, 'tsconfig.json');
    writeFileSync(config, readFileSync(config, 'utf8').replace('"skipLibCheck": true', '"skipLibCheck": false'));
    expect(inPackage(await typeErrors(app))).to.deep.equal([]);
  });

  it('dranspose init makes a project whose test passes and which type-checks clean', async () => {
    const { stdout } = await run('npx', ['dranspose', 'init', 'beamline-payload'], { cwd: app });
    expect(stdout).to.contain('created');
    const project = join(app, 'beamline-payload');
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    expect(manifest).to.deep.include({ name: 'beamline-payload', type: 'module' });
    expect(manifest.dependencies.dranspose).to.equal('file:../node_modules/dranspose');
    expect(readFileSync(join(project, 'pipeline.yaml'), 'utf8')).to.contain('name: beamline-payload');
    // dranspose resolves from the folder above, where it is installed
    const { stdout: tests } = await run('npm', ['test'], { cwd: project });
    expect(tests).to.match(/# pass 1\n# fail 0/);
    expect(await typeErrors(project)).to.deep.equal([]);
    const refused = await run('npx', ['dranspose', 'init', 'beamline-payload'], { cwd: app }).then(() => undefined, (e) => e);
    expect(refused?.stderr).to.contain('exists and is not empty');
  });
});
