/**
 * Event frames handed to a Python payload host through shared memory instead of its zmq lane,
 * which cost two kernel copies of every frame (one in zeromq's write here, one in the host's
 * receive). A memory file of fixed slots, mapped here read-write and by the host read-only, holds
 * one event per slot; the request carries only the slot and where its frames lie.
 *
 * A slot is the host's from the request until a reply lists it in `freed`: the host frees a slot
 * only when nothing in Python refers to its frames any more, so a payload that keeps a frame (or a
 * numpy view of it) keeps its slot, and its data is never overwritten. With no free slot, or an
 * event larger than a slot, the frames go over the lane as before; nothing waits for a slot.
 */
import { loadNativeAddon } from '../core/native-addon.js';
import { PYTHON_SHARED_SLOT_BYTES, PYTHON_SHARED_SLOTS } from '../core/defaults.js';

/** where one event's frames lie: its slot, and each frame's offset in it and length */
export interface SharedPlacement { slot: number; spans: [offset: number, length: number][] }

/** the addon's function for it (native/src/shared_memory.c) */
interface SharedMemoryAddon {
  /** a new memory file of `length` bytes mapped shared: its descriptor (close-on-exec, the caller's to close) and an ArrayBuffer over the mapping */
  createSharedMemory(length: number): [fd: number, memory: ArrayBuffer];
}

/** frames start on cache lines, so numpy's views of them are aligned for any dtype */
const FRAME_ALIGN = 64;

export class SharedFrames {
  /** most recently freed first: its pages are the likeliest to be in cache, and fewer pages are ever touched */
  private readonly free: number[];
  private readonly memory: Uint8Array;

  private constructor(readonly fd: number, buffer: ArrayBuffer, readonly slots: number, readonly slotBytes: number) {
    this.memory = new Uint8Array(buffer);
    this.free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  /**
   * The shared memory of one host, or why there is none (no addon, `DRANSPOSE_NATIVE=0`, the
   * system refused): then every frame goes over the lane.
   */
  static open(env: NodeJS.ProcessEnv = process.env, slots = PYTHON_SHARED_SLOTS, slotBytes = PYTHON_SHARED_SLOT_BYTES):
    { shared: SharedFrames; reason?: undefined } | { shared?: undefined; reason: string } {
    if (env.DRANSPOSE_NATIVE === '0') return { reason: 'DRANSPOSE_NATIVE=0' };
    const { addon, reason } = loadNativeAddon<SharedMemoryAddon>();
    if (!addon) return { reason };
    try {
      const [fd, buffer] = addon.createSharedMemory(slots * slotBytes);
      return { shared: new SharedFrames(fd, buffer, slots, slotBytes) };
    } catch (error) {
      return { reason: `no shared memory: ${(error as Error).message}` };
    }
  }

  /** how the host maps it: `FD,SLOTS,SLOT_BYTES` with the descriptor it has (see host.ts) */
  describe(fd: number): string {
    return `${fd},${this.slots},${this.slotBytes}`;
  }

  /** copies the frames into a free slot and says where; undefined when no slot is free or they do not fit one */
  place(frames: readonly Uint8Array[]): SharedPlacement | undefined {
    if (!this.free.length) return undefined;
    const spans: [number, number][] = [];
    let end = 0;
    for (const frame of frames) {
      const offset = Math.ceil(end / FRAME_ALIGN) * FRAME_ALIGN;
      end = offset + frame.length;
      if (end > this.slotBytes) return undefined;
      spans.push([offset, frame.length]);
    }
    const slot = this.free.pop()!;
    const base = slot * this.slotBytes;
    frames.forEach((frame, i) => this.memory.set(frame, base + spans[i][0]));
    return { slot, spans };
  }

  /** slots a reply gave back (`freed`); anything else there is a bug of the host, refused loudly */
  release(freed: unknown): void {
    if (freed === undefined) return;
    if (!Array.isArray(freed) || new Set(freed).size !== freed.length
      || !freed.every((slot) => Number.isInteger(slot) && slot >= 0 && slot < this.slots && !this.free.includes(slot))) {
      throw new Error(`the Python host freed slots it did not have: ${JSON.stringify(freed)}`);
    }
    this.free.push(...(freed as number[]));
  }

  /** slots free now (tests, diagnostics) */
  get freeSlots(): number {
    return this.free.length;
  }
}
