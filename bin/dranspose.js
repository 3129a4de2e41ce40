#!/usr/bin/env -S node --initial-old-space-size=256
// Loads TypeScript on the fly (tsx), so user worker/reducer modules need no build step either.
// The heap flag: see HEAP_FLAG in src/controller/supervisor.ts.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
