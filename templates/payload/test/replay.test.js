// Replays data/capture.cbors through the worker and the reducer, as `npm run replay` does, and
// checks what the reducer published. Run with `npm test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT = fileURLToPath(new URL('..', import.meta.url));
const DRANSPOSE = fileURLToPath(new URL('bin/dranspose.js', import.meta.resolve('dranspose/package.json')));
const CAPTURE_IMAGES = 20;

/** the reducer's publish after a replay of the capture with these parameters */
function replay(parametersFile) {
  const result = join(mkdtempSync(join(tmpdir(), 'replay-')), 'publish.json');
  execFileSync(process.execPath, [DRANSPOSE, 'replay', '-w', 'src/worker.ts:Worker', '-r', 'src/reducer.ts:Reducer',
    '-f', 'detector=stins:data/capture.cbors', '-p', parametersFile, '--result', result], { cwd: PROJECT, stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(readFileSync(result, 'utf8'));
}

test('every image of the capture gives its intensity, and the threshold of params.json applies', () => {
  const withThreshold = replay('params.json');
  const noThreshold = join(mkdtempSync(join(tmpdir(), 'params-')), 'params.json');
  writeFileSync(noThreshold, JSON.stringify([{ name: 'threshold', data: '0' }]));
  const all = replay(noThreshold);

  assert.equal(all.frames, CAPTURE_IMAGES);
  assert.equal(all.intensity.length, CAPTURE_IMAGES);
  assert.ok(all.intensity.every((value) => value > 0));
  assert.equal(withThreshold.peak, all.peak);
  withThreshold.intensity.forEach((value, i) => assert.ok(value < all.intensity[i], `image ${i}: ${value} ≥ ${all.intensity[i]}`));
});
