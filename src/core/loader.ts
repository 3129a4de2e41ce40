/**
 * Loads user classes: `path/to/module.ts:ExportName` (TypeScript compiled when loaded, or JavaScript), or a
 * Python class, `module.path:Class` (resolved from the working directory, as the original does)
 * or `path/file.py:Class`, run in a payload host (src/python/).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ReducerClass, WorkerClass } from './types.js';
import { createLogger } from './logging.js';
import { isPythonClassSpec } from '../python/interpreter.js';
import { importModule } from './import-module.js';

export class ClassLoadError extends Error {}

export function splitClassSpec(spec: string): { modulePath: string; exportName: string } {
  const at = spec.lastIndexOf(':');
  if (at <= 0 || at === spec.length - 1) {
    throw new ClassLoadError(`class ${JSON.stringify(spec)} must be written path/to/module.ts:ExportName, path/file.py:Class or python.module:Class`);
  }
  return { modulePath: spec.slice(0, at), exportName: spec.slice(at + 1) };
}

/**
 * A class spec that names the same class from any directory: file paths are made absolute against
 * `baseDir`; a dotted Python module stays as it is, resolved from the working directory.
 */
export function absoluteClassSpec(spec: string, baseDir: string): string {
  const { modulePath, exportName } = splitClassSpec(spec);
  if (isPythonClassSpec(spec) && !modulePath.endsWith('.py')) return spec;
  return `${isAbsolute(modulePath) ? modulePath : resolve(baseDir, modulePath)}:${exportName}`;
}

async function loadExport(spec: string, method: string, cwd: string): Promise<unknown> {
  const { modulePath, exportName } = splitClassSpec(spec);
  const file = resolve(cwd, modulePath);
  if (!existsSync(file)) throw new ClassLoadError(`class ${spec}: no file ${file}`);
  let module: Record<string, unknown>;
  try {
    module = await importModule(file);
  } catch (error) {
    throw new ClassLoadError(`class ${spec}: importing ${file} failed: ${(error as Error).message}`);
  }
  const exported = module[exportName];
  if (typeof exported !== 'function' || typeof (exported as { prototype?: Record<string, unknown> }).prototype?.[method] !== 'function') {
    throw new ClassLoadError(`class ${spec}: ${exportName} is not a class with a ${method} method`);
  }
  return exported;
}

async function loadPython<T>(spec: string, cwd: string, kind: 'worker' | 'reducer'): Promise<T> {
  const { loadPythonReducerClass, loadPythonWorkerClass } = await import('../python/classes.js');
  const { PythonError } = await import('../python/host.js');
  const logger = createLogger(`python-${kind}`);
  try {
    return (kind === 'worker' ? await loadPythonWorkerClass(spec, cwd, logger) : await loadPythonReducerClass(spec, cwd, logger)) as T;
  } catch (error) {
    if (error instanceof PythonError) throw new ClassLoadError(error.message);
    throw error;
  }
}

export async function loadWorkerClass(spec: string, cwd = process.cwd()): Promise<WorkerClass> {
  if (isPythonClassSpec(spec)) return await loadPython<WorkerClass>(spec, cwd, 'worker');
  return await loadExport(spec, 'processEvent', cwd) as WorkerClass;
}

export async function loadReducerClass(spec: string, cwd = process.cwd()): Promise<ReducerClass> {
  if (isPythonClassSpec(spec)) return await loadPython<ReducerClass>(spec, cwd, 'reducer');
  return await loadExport(spec, 'processResult', cwd) as ReducerClass;
}
