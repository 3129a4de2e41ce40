#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ (tsconfig.build.json; incremental, well under a second
// when nothing changed) and copies what tsc does not, the dashboard's static files among them, so
// that dist/ mirrors src/ and each module finds its files beside it.
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
execFileSync(`${ROOT}node_modules/.bin/tsc`, ['-p', `${ROOT}tsconfig.build.json`], { cwd: ROOT, stdio: 'inherit' });
cpSync(`${ROOT}src`, `${ROOT}dist`, { recursive: true, filter: (source) => !source.endsWith('.ts') });
