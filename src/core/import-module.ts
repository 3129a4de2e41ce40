/**
 * Imports a user module by path: JavaScript natively, TypeScript through tsx's scoped `tsImport`,
 * loaded only then, so that tsx compiles the payload and what it imports, and nothing else of this
 * process. A `.ts` payload follows its folder's package.json as node does: without "type": "module"
 * it is CommonJS, and its import of this package a require() of an ES module (node >= 20.19).
 */
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);
/** each scoped import is a module graph of its own: a file named twice (worker and reducer) is imported once */
const imported = new Map<string, Promise<Record<string, unknown>>>();

async function importTypeScript(url: string): Promise<Record<string, unknown>> {
  const { tsImport } = await import('tsx/esm/api');
  return await tsImport(url, import.meta.url);
}

export function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (!TYPESCRIPT.has(extname(file))) return import(url);
  let module = imported.get(url);
  if (!module) imported.set(url, module = importTypeScript(url));
  return module;
}
