/**
 * Loads the N-API addon of native/ (native decoders, the heartbeat thread, shared memory), which
 * `npm ci` builds through scripts/install-native.js. It is optional: where it is not built or does
 * not load, its users fall back (to the TypeScript decoders, the heartbeat worker thread, frames to
 * Python over zmq) and say why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/dranspose_native.node', import.meta.url));

export type LoadedAddon<Addon> = { addon: Addon; reason?: undefined } | { addon?: undefined; reason: string };

/** the addon, typed as its user needs it (node loads the file once, whoever asks) */
export function loadNativeAddon<Addon>(path = NATIVE_ADDON_PATH): LoadedAddon<Addon> {
  if (!existsSync(path)) {
    return { reason: `the native addon is not built (no ${path}; \`node scripts/install-native.js\` builds it)` };
  }
  try {
    return { addon: createRequire(import.meta.url)(path) as Addon };
  } catch (err) {
    return { reason: `the native addon does not load: ${(err as Error).message}` };
  }
}
