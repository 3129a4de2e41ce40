#!/usr/bin/env -S node --initial-old-space-size=256 --expose-gc
// The command line, from the compiled JavaScript in dist/ (npm run build); only user payloads in
// TypeScript are compiled on the fly, when they are loaded (src/core/import-module.ts).
// V8 flags work only on node's command line (src/core/node-flags.ts): a command started without
// the ones it needs runs again in a child node that has them. The shebang carries the common ones.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`dranspose: ${main.pathname} is missing; build it with: npm run build\n`);
  process.exit(1);
}
const { nodeArgsFor } = await import('../dist/core/node-flags.js');
const nodeArgs = nodeArgsFor(process.argv[2]);
if (nodeArgs.length > process.execArgv.length) {
  // through the IPC channel the child stops when this process dies, even by SIGKILL
  const child = spawn(process.execPath, [...nodeArgs, ...process.argv.slice(1)],
    { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
  // the child shuts down on the first signal and ignores repeats, so forwarding one it also got is harmless
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  process.on('disconnect', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
} else {
  await import(main.href);
}
