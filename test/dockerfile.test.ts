/**
 * The Dockerfile, checked without a Docker engine: its stages, that every file it copies from the
 * build context exists and is not left out by .dockerignore, that the build stage copies all the
 * package ships (package.json `files`), and that the runtime image runs the CLI with Debian's Python.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/build.js';

interface Instruction { stage: string; keyword: string; args: string }

/** the instructions, continuation lines joined, comments left out, each with its stage */
function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let stage = '';
  for (const line of text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    if (keyword.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? '';
    result.push({ stage, keyword: keyword.toUpperCase(), args });
  }
  return result;
}

describe('Dockerfile', () => {
  const steps = instructions(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  const copies = steps.filter((s) => s.keyword === 'COPY' && !s.args.startsWith('--from'));
  /** the context paths a COPY takes (all but its destination) */
  const sources = (step: Instruction) => step.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1).map((s) => s.replace(/\/$/, ''));

  it('builds in a Debian stage and runs in a Debian stage of its own', () => {
    const froms = steps.filter((s) => s.keyword === 'FROM');
    expect(froms.map((s) => s.stage)).to.deep.equal(['build', 'runtime']);
    for (const from of froms) expect(from.args).to.match(/^node:\$\{NODE_VERSION\}-bookworm(-slim)? AS /);
    expect(steps.find((s) => s.keyword === 'ARG')?.args).to.match(/^NODE_VERSION=\d+$/);
    for (const step of steps.filter((s) => s.keyword === 'COPY' && s.args.startsWith('--from'))) {
      expect(froms.map((s) => s.stage)).to.include(/^--from=(\S+)/.exec(step.args)![1]);
    }
  });

  it('copies only files that exist and that .dockerignore lets in', () => {
    expect(copies).to.not.have.length(0);
    for (const path of copies.flatMap(sources)) {
      expect(existsSync(join(ROOT, path)), `COPY ${path}`).to.equal(true);
      expect(ignored.filter((pattern) => path === pattern || path.startsWith(`${pattern}/`)), `COPY ${path} is in .dockerignore`).to.deep.equal([]);
    }
  });

  it('copies into the build everything the package ships and the build compiles', () => {
    const copied = new Set(copies.filter((s) => s.stage === 'build').flatMap(sources));
    const { files } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    const shipped = files.filter((f) => !f.startsWith('!') && !f.startsWith('dist/')).map((f) => f.replace(/\/$/, '')).filter((f) => existsSync(join(ROOT, f)));
    for (const path of [...shipped, 'src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']) {
      expect([...copied].some((c) => path === c || path.startsWith(`${c}/`)), `the build stage copies ${path}`).to.equal(true);
    }
  });

  it('runs the CLI as its entry point, with Debian\'s Python for Python payloads', () => {
    const runtime = steps.filter((s) => s.stage === 'runtime');
    expect(runtime.find((s) => s.keyword === 'ENTRYPOINT')?.args).to.equal('["dranspose"]');
    const installs = runtime.filter((s) => s.keyword === 'RUN').map((s) => s.args).join(' ');
    for (const pkg of ['python3', 'python3-numpy', 'python3-zmq', 'python3-cbor2']) expect(installs).to.match(new RegExp(`\\s${pkg}(\\s|$)`));
    expect(installs).to.contain('ln -s /opt/dranspose/bin/dranspose.js /usr/local/bin/dranspose');
    expect(existsSync(join(ROOT, 'bin/dranspose.js'))).to.equal(true);
    expect(runtime.find((s) => s.keyword === 'USER')?.args, 'not root').to.equal('node');
  });
});
