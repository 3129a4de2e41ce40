/**
 * `dranspose init NAME`: a payload project to start from: a worker, a reducer, a parameters file, a
 * capture of emulated detector images and a test that replays it, a pipeline configuration and a
 * tsconfig (templates/payload/).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { fail } from './lifecycle.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEMPLATE = join(PACKAGE_ROOT, 'templates/payload');
/** the images of data/capture.cbors, as the template's test expects */
const CAPTURE_IMAGES = 20;
/** files of the template that name the project */
const NAMED = ['README.md', 'pipeline.yaml'];

interface InitOptions { dependency?: string }

function packageJson(name: string, dependency: string): string {
  const own = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  return `${JSON.stringify({
    name, version: '0.1.0', private: true, type: 'module',
    scripts: {
      test: 'node --test test/replay.test.js',
      typecheck: 'tsc --noEmit',
      replay: 'dranspose replay -w src/worker.ts:Worker -r src/reducer.ts:Reducer -f detector=stins:data/capture.cbors -p params.json --result publish.json',
      start: 'dranspose run pipeline.yaml',
    },
    dependencies: { dranspose: dependency },
    devDependencies: { typescript: own.devDependencies?.typescript ?? 'latest' },
  }, null, 2)}\n`;
}

async function writeCapture(path: string): Promise<void> {
  const [{ RawCaptureWriter }, { emulatedScan }] = await Promise.all([import('../core/capture/index.js'), import('../protocols/emulate.js')]);
  const writer = await RawCaptureWriter.open(path);
  for (const message of await emulatedScan('stins', { frames: CAPTURE_IMAGES, shape: [64, 64] })) await writer.write(message);
  await writer.close();
}

async function init(path: string, o: InitOptions): Promise<void> {
  const dir = resolve(path);
  const name = basename(dir);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new Error(`${name}: a project name is lower-case letters, digits and . _ - (it becomes the npm package name)`);
  if (existsSync(dir) && readdirSync(dir).length) throw new Error(`${dir} exists and is not empty`);
  cpSync(TEMPLATE, dir, { recursive: true });
  // npm leaves .gitignore files out of packages
  renameSync(join(dir, 'gitignore'), join(dir, '.gitignore'));
  for (const file of NAMED) writeFileSync(join(dir, file), readFileSync(join(dir, file), 'utf8').replaceAll('__NAME__', name));
  // this copy of dranspose, until the project names a published version
  writeFileSync(join(dir, 'package.json'), packageJson(name, o.dependency ?? `file:${relative(dir, PACKAGE_ROOT) || '.'}`));
  mkdirSync(join(dir, 'data'));
  await writeCapture(join(dir, 'data/capture.cbors'));
  process.stdout.write(`init: created ${dir}\n  cd ${relative(process.cwd(), dir) || '.'} && npm install && npm test\n`);
}

export function registerInitCommand(program: Command): void {
  program.command('init')
    .description('create a payload project: worker, reducer, parameters, a capture and a test that replays it')
    .argument('<name>', 'folder to create; its name becomes the package name')
    .option('--dependency <spec>', 'how the project depends on dranspose (default: this copy, as file:PATH)')
    .action((path: string, o: InitOptions) => init(path, o).catch(fail));
}
