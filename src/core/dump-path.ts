/**
 * Where the `dump_prefix` parameter may make a server write (issue 10 item 9): inside the dump
 * directory its operator configured, nowhere else. Without a configured directory there are no
 * prefix dumps. The prefix is a plain string prefix, relative to the directory (or absolute inside it).
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { HttpError } from './http/errors.js';

/** a prefix that cannot be used: the controller answers 400, an ingester logs and counts it */
export class DumpPathError extends HttpError {
  constructor(detail: string) {
    super(400, detail);
  }
}

function inside(directory: string, path: string): boolean {
  const rel = relative(directory, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The file `<prefix><name>` in the dump directory; throws DumpPathError when it would leave it. */
export function dumpFilePath(directory: string | undefined, prefix: string, name: string): string {
  if (!directory) throw new DumpPathError('dumps are off: no dump directory is configured (config dumps.directory, option --dump-dir)');
  if (prefix.includes('\0')) throw new DumpPathError('dump_prefix contains a NUL byte');
  const path = resolve(directory, prefix + name);
  if (!inside(resolve(directory), dirname(path))) throw new DumpPathError(`dump_prefix ${JSON.stringify(prefix)} leaves the dump directory ${directory}`);
  return path;
}

/** Checks a prefix when it is set (any file name it will be given stays where `x` would). */
export function checkDumpPrefix(directory: string | undefined, prefix: string): void {
  if (prefix !== '') dumpFilePath(directory, prefix, 'x');
}

/**
 * The same, for a file about to be opened: its directory must exist and, symbolic links followed,
 * still lie inside the dump directory.
 */
export function openableDumpPath(directory: string | undefined, prefix: string, name: string): string {
  const path = dumpFilePath(directory, prefix, name);
  let real: string;
  let root: string;
  try {
    real = realpathSync(dirname(path));
    root = realpathSync(directory!);
  } catch (error) {
    throw new DumpPathError(`cannot dump to ${path}: ${(error as Error).message}`);
  }
  if (!inside(root, real)) throw new DumpPathError(`dump_prefix ${JSON.stringify(prefix)} leads out of the dump directory ${directory} through a link`);
  return path;
}
