/**
 * Imports a user module by path: JavaScript natively; TypeScript compiled first, by esbuild in a
 * child process (compile-payload.ts), into one ES module that is imported natively. Compiling in
 * the part cost memory it never gave back: tsx (its loader thread, esbuild's JavaScript) made an
 * idle worker 122 MB instead of 90 MB. TypeScript payloads are ES modules whatever their folder's
 * package.json says.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);
/** the compiled compiler, also when this module runs from src/ under tsx (tests, scripts) */
const COMPILER = fileURLToPath(new URL('../../dist/core/compile-payload.js', import.meta.url));
/** a file named twice (worker and reducer) is one module, as with import */
const imported = new Map<string, Promise<Record<string, unknown>>>();

async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'dranspose-payload-'));
  const compiled = join(dir, `${basename(file)}.mjs`);
  try {
    try {
      await promisify(execFile)(process.execPath, [COMPILER, file, compiled]);
    } catch (error) {
      throw new Error(((error as { stderr?: string }).stderr || (error as Error).message).trim());
    }
    // stack traces name the payload's own lines (the module carries its source map)
    process.setSourceMapsEnabled(true);
    return await import(pathToFileURL(compiled).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function importModule(file: string): Promise<Record<string, unknown>> {
  if (!TYPESCRIPT.has(extname(file))) return import(pathToFileURL(file).href);
  let module = imported.get(file);
  if (!module) imported.set(file, module = importTypeScript(file));
  return module;
}
