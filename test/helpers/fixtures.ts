/** The real captures in ../shared/fixtures (never committed); tests skip with a printed reason without them. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Context } from 'mocha';

export const FIXTURES = process.env.DRANSPOSE_FIXTURES ?? resolve(process.cwd(), '../shared/fixtures');

/** the path of a fixture, or skips the test (printing why) when it is not there */
export function fixture(ctx: Context, name: string): string {
  const path = join(FIXTURES, name);
  if (!existsSync(path)) {
    console.log(`      skipped: fixture ${path} is absent (set DRANSPOSE_FIXTURES to the shared/fixtures folder)`);
    ctx.skip();
  }
  return path;
}
