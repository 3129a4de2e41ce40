/**
 * The command line and every part run from the compiled JavaScript in dist/: loading this module
 * builds it (incrementally, well under a second when nothing changed), once per mocha process, so
 * that no test runs a stale build. Tests that start parts import `BIN` from here, which covers
 * single-file runs with --no-config; `.mocharc.json` requires it for the others.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
/** the executable users run, `node bin/dranspose.js …` */
export const BIN = join(ROOT, 'bin/dranspose.js');

execFileSync(process.execPath, [join(ROOT, 'scripts/build.js')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
