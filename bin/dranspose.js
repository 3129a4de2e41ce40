#!/usr/bin/env node
// Loads TypeScript on the fly (tsx), so user worker/reducer modules need no build step either.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
