import { readFileSync } from 'node:fs';

/** The package version, reported by every component as `dranspose_version`. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
