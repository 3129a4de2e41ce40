/** Which Python runs payloads, and where it finds the `dranspose` modules the project ships. */
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's Python has numpy, pyzmq and cbor2 (the `python3` on PATH may be another one) */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** the project's `python/` folder: the `dranspose` package and its payload host */
export const PYTHON_PACKAGE_DIR = fileURLToPath(new URL('../../python', import.meta.url));

export function pythonInterpreter(): string {
  return process.env.DRANSPOSE_PYTHON || DEFAULT_PYTHON;
}

/** the environment of a payload host: our package first on PYTHONPATH, the caller's after it */
export function pythonEnvironment(): NodeJS.ProcessEnv {
  const inherited = process.env.PYTHONPATH;
  return { ...process.env, PYTHONPATH: inherited ? `${PYTHON_PACKAGE_DIR}${delimiter}${inherited}` : PYTHON_PACKAGE_DIR };
}

/** `module.path:Class` (dotted, no file extension) or `path/file.py:Class` names a Python class */
export function isPythonClassSpec(spec: string): boolean {
  const at = spec.lastIndexOf(':');
  if (at <= 0) return false;
  const module = spec.slice(0, at);
  return module.endsWith('.py') || /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(module) && !/\.(ts|js|mjs|cjs|mts|cts)$/.test(module);
}
