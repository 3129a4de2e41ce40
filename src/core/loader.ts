/** Loads user classes named `path/to/module.ts:ExportName` (TypeScript compiled when loaded, or JavaScript). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ReducerClass, WorkerClass } from './types.js';
import { importModule } from './import-module.js';

export class ClassLoadError extends Error {}

export function splitClassSpec(spec: string): { modulePath: string; exportName: string } {
  const at = spec.lastIndexOf(':');
  if (at <= 0 || at === spec.length - 1) throw new ClassLoadError(`class ${JSON.stringify(spec)} must be written path/to/module.ts:ExportName`);
  return { modulePath: spec.slice(0, at), exportName: spec.slice(at + 1) };
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

export async function loadWorkerClass(spec: string, cwd = process.cwd()): Promise<WorkerClass> {
  return await loadExport(spec, 'processEvent', cwd) as WorkerClass;
}

export async function loadReducerClass(spec: string, cwd = process.cwd()): Promise<ReducerClass> {
  return await loadExport(spec, 'processResult', cwd) as ReducerClass;
}
