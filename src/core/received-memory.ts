/**
 * Frees received frames early. zeromq.js hands every frame over 128 B to JavaScript as an external
 * buffer and reports its size to V8 twice (once itself, once through the ArrayBuffer). Left alone,
 * V8 frees such buffers in full collections started each time about 64 MB of external memory has
 * piled up; a full collection costs in proportion to the whole heap, so a component receiving
 * 1 GB/s spent a quarter of its time in them (measured: 31 of them in 2.4 s, 9 ms each). Most frames
 * are garbage long before that: a young-generation collection every few MiB received frees them in
 * well under a millisecond, and the external total stays below the full collection's trigger.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** measured on 1 MiB frames: 8–32 MiB all remove nearly every full collection */
const COLLECT_EVERY_BYTES = 16 * 2 ** 20;

type Collect = (options: { type: 'minor' }) => void;

let collect: Collect | undefined;
let sinceCollect = 0;

function youngCollector(): Collect {
  // the flag exposes `gc` to contexts created afterwards; a fresh one hands it over, so the
  // process's own global stays as it was
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as Collect;
}

/** counts the bytes of a received message; collects the young generation once enough arrived */
export function noteReceived(message: readonly Buffer[]): void {
  for (const frame of message) sinceCollect += frame.length;
  if (sinceCollect < COLLECT_EVERY_BYTES) return;
  sinceCollect = 0;
  (collect ??= youngCollector())({ type: 'minor' });
}
