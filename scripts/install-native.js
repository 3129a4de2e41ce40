#!/usr/bin/env node
// The package's install step (npm ci / npm install run it): builds the native decoders in native/
// with node-gyp. It never fails the install: when the addon cannot be built (no C compiler, no
// node headers) it prints one line saying so and why, and the TypeScript decoders are used
// (src/core/compression/native.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NATIVE = fileURLToPath(new URL('../native/', import.meta.url));
const LOG = path.join(NATIVE, 'build.log');

/** npm hands its own node-gyp to install scripts; run alone, the one that comes with npm */
function nodeGyp() {
  const besideNpm = path.resolve(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  const script = process.env.npm_config_node_gyp || (existsSync(besideNpm) ? besideNpm : undefined);
  return script ? [process.execPath, script] : ['node-gyp'];
}

/** node's own headers when they are installed beside it: node-gyp would otherwise download them */
function nodedirArgs() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const installed = existsSync(path.join(prefix, 'include/node/node_api.h'));
  return process.env.npm_config_nodedir || !installed ? [] : [`--nodedir=${prefix}`];
}

function reasonOf(run) {
  if (run.error) return `${run.error.message}`;
  const lines = `${run.stdout}\n${run.stderr}`.split('\n');
  // the compiler's or Python's own words first, node-gyp's summary otherwise
  const line = lines.find((l) => /\berror:|^\w*Error:/.test(l)) ?? lines.find((l) => /gyp ERR! stack Error/.test(l));
  return (line ?? `node-gyp exited with ${run.status}`).trim();
}

const [command, ...args] = nodeGyp();
const run = spawnSync(command, [...args, 'rebuild', `--directory=${NATIVE}`, ...nodedirArgs()], {
  encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 26,
});
if (run.status === 0) {
  rmSync(LOG, { force: true });
} else {
  writeFileSync(LOG, `${run.stdout ?? ''}\n${run.stderr ?? ''}`);
  console.log(`dranspose: native decoders not built (${reasonOf(run)}); the TypeScript decoders are used. Log: ${path.relative(process.cwd(), LOG)}`);
}
