/**
 * `node compile-payload.js ENTRY.ts OUT.mjs`: compiles a TypeScript payload into one ES module.
 * import-module.ts runs it as a child process, so that esbuild's JavaScript never stays in a part.
 * The payload's own files are bundled; each package it imports stays an import, of the file node
 * resolves it to from the payload, so the module loads from anywhere; each file keeps its own
 * `import.meta.url`, `dirname` and `filename`, and `require` works as it would beside the entry.
 */
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Loader, type Plugin } from 'esbuild';

const BUILTINS = new Set(builtinModules);
const LOADERS: Record<string, Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx' };
/** marks the resolution a plugin asks esbuild for, so that it does not come back to the plugin */
const INNER = Symbol('inner resolution');

const payloadModules: Plugin = {
  name: 'payload-modules',
  setup(builder) {
    // bare specifiers: node builtins and packages
    builder.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === INNER) return undefined;
      if (args.path.startsWith('node:') || BUILTINS.has(args.path)) return { path: args.path, external: true };
      const resolved = await builder.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: INNER });
      if (resolved.errors.length) return { errors: resolved.errors };
      return { path: args.kind === 'require-call' ? resolved.path : pathToFileURL(resolved.path).href, external: true };
    });
    builder.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const contents = source
        .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
        .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
        .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)));
      return { contents, loader: LOADERS[extname(args.path)] };
    });
  },
};

const [entry, outfile] = process.argv.slice(2);
try {
  await build({
    entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'node', target: `node${process.versions.node.split('.')[0]}`,
    sourcemap: 'inline', logLevel: 'silent', plugins: [payloadModules],
    banner: { js: `import { createRequire as __payloadRequire } from 'node:module'; const require = __payloadRequire(${JSON.stringify(pathToFileURL(entry).href)});` },
  });
} catch (error) {
  const { errors } = error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] };
  const lines = errors?.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)) ?? [String(error)];
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(1);
}
