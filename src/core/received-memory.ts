/**
 * Frees memory a part no longer needs, with the `gc` that `--expose-gc` gives it (node-flags.ts),
 * and gives what the C allocator holds free back to the system.
 *
 * Received frames: zeromq.js hands every frame over 128 B to JavaScript as an external buffer and
 * reports its size to V8 twice (once itself, once through the ArrayBuffer). Left alone, V8 frees
 * such buffers in full collections started each time about 64 MB of external memory has piled up;
 * a full collection costs in proportion to the whole heap, so a component receiving 1 GB/s spent a
 * quarter of its time in them (measured: 31 of them in 2.4 s, 9 ms each). Most frames are garbage
 * long before that: a young-generation collection every few MiB received frees them in well under
 * a millisecond, and the external total stays below the full collection's trigger.
 *
 * The end of a scan: the old generation may grow to 256 MB before V8 collects it, so a part
 * collects it itself while it has nothing else to do, once it grew by 16 MB.
 *
 * The end of start-up: loading the modules grew the young generation to 16 MiB semi-spaces (about
 * 16 MB resident), which nothing gives back while the part idles. A full collection once the part
 * is ready wakes V8's memory reducer, which about 8 s later, if the part allocates little by then,
 * shrinks the young generation to its smallest; it grows again when frames flow. The reducer
 * judges the allocation rate over the last ten collections, so ten collections of the near-empty
 * young generation (well under a millisecond together) first take start-up's allocations out of
 * that estimate; without them it often waited another 8 s or more. After a scan only the full
 * collection runs, as before: the young generation a scan grew then stays for the next scan
 * unless the reducer finds the part idle on its own (after 16 s or more). With those ten
 * collections after scans too, the bench's 1 MiB row ran its workers at ×1.6 the CPU per event in
 * 2 of 3 runs, on a loaded machine; not measured further.
 *
 * The C allocator (glibc's malloc) keeps what V8 and node freed for reuse: start-up leaves 4–8 MB
 * of it free in its arenas, resident, that an idle part never reuses. The native addon's
 * releaseFreeMemory (malloc_trim) returns it a moment after these collections, once V8's
 * concurrent sweeping has freed what it frees, and a moment after a scan unless frames flow
 * again by then; without the addon it stays.
 *
 * During a scan the opposite holds: received frames and decoded images are allocated and freed at
 * the rate they flow, and memory given back to the system is faulted in and zeroed by the kernel
 * again at the next allocation. glibc maps each block above a moving threshold (128 KiB, then the
 * largest block freed so far, up to 32 MiB) on its own, and trims the top of its heap once twice
 * that threshold is free there, so big frames kept going back and forth: decoding a 17.9 MB
 * Eiger 4M-sized bslz4 frame into a fresh array ran at 0.88 GB/s instead of 7.0 with the
 * thresholds fixed (decompression bench, same machine). So each part keeps its freed memory up to
 * fixed thresholds (keepFreedMemory), glibc's own rule of twice the map threshold at a size that
 * holds an Eiger2 16M frame, and gives it back after the scan.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { loadNativeAddon } from './native-addon.js';

/** measured on 1 MiB frames: 8–32 MiB all remove nearly every full collection */
const COLLECT_EVERY_BYTES = 16 * 2 ** 20;

/** `gc()` is a full collection; node 20's V8 ignores `{ type: 'major' }` */
type Collect = (options?: { type: 'minor' }) => void;

/** present in parts started with --expose-gc; absent (and nothing is collected by hand) otherwise */
const collect = (globalThis as { gc?: Collect }).gc;

let sinceCollect = 0;
/** messages received since start; a release of memory waits until they stop */
let receivedMessages = 0;

/** counts the bytes of a received message; collects the young generation once enough arrived */
export function noteReceived(message: readonly Buffer[]): void {
  receivedMessages += 1;
  if (!collect) return;
  for (const frame of message) sinceCollect += frame.length;
  if (sinceCollect < COLLECT_EVERY_BYTES) return;
  sinceCollect = 0;
  collect({ type: 'minor' });
}

/** after the collections, V8's sweeper threads may still be freeing what they found */
export const RELEASE_AFTER_MS = 1000;

/**
 * a full collection at a scan's end pays once the old generation grew by this much since the last
 * one: it costs 20-50 ms whatever it finds (0.4 µs per event of a 100,000-event scan of 64 B
 * events), and a scan that promoted little leaves little to free
 */
const COLLECT_AFTER_GROWTH = 16 * 2 ** 20;

/** bytes in the heap's spaces other than the young generation, after the last full collection */
let oldAfterCollect = 0;

function oldGenerationBytes(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) if (!space.space_name.startsWith('new_')) bytes += space.space_used_size;
  return bytes;
}

/** blocks this large or larger get a mapping of their own (an Eiger2 16M uint32 frame, 72.6 MB, does not) */
const MAP_ABOVE_BYTES = 128 * 2 ** 20;
/** the allocator thresholds of every part, for glibc's mallopt (or its MALLOC_*_ variables) */
export const KEPT_MEMORY = { mapAbove: MAP_ABOVE_BYTES, trimAbove: 2 * MAP_ABOVE_BYTES } as const;

interface AllocatorControl {
  keepFreedMemory?: (mapAbove: number, trimAbove: number) => boolean;
  releaseFreeMemory?: () => boolean;
}

let allocatorControl: AllocatorControl | null | undefined;

/** the addon's allocator calls, looked up once (null without the addon) */
function allocator(): AllocatorControl | null {
  allocatorControl ??= loadNativeAddon<AllocatorControl>().addon ?? null;
  return allocatorControl;
}

/** gives freed memory back to the system a moment from now, unless frames arrive in between (a scan reuses it) */
function releaseSoon(): void {
  const release = allocator()?.releaseFreeMemory;
  if (!release) return;
  const receivedBefore = receivedMessages;
  setTimeout(() => { if (receivedMessages === receivedBefore) release(); }, RELEASE_AFTER_MS).unref();
}

/** a part keeps the memory it frees during a scan for its next frames (see above) */
export function keepFreedMemory(): void {
  allocator()?.keepFreedMemory?.(KEPT_MEMORY.mapAbove, KEPT_MEMORY.trimAbove);
}

/**
 * for when a scan has ended and the part is idle: a full collection if the scan left enough
 * garbage to be worth it, then the allocator's release
 */
export function collectAfterScan(): void {
  if (collect && oldGenerationBytes() - oldAfterCollect >= COLLECT_AFTER_GROWTH) {
    collect();
    oldAfterCollect = oldGenerationBytes();
  }
  releaseSoon();
}

/** the collections of a part that has started and is idle, then the allocator's release */
export function collectAfterStart(): void {
  if (collect) {
    for (let i = 0; i < 10; i++) collect({ type: 'minor' });
    collect();
    oldAfterCollect = oldGenerationBytes();
  }
  releaseSoon();
}
