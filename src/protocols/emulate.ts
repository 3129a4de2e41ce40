/**
 * Every protocol's emulator behind one call, for `dranspose source --emulate` and `dranspose init`:
 * the messages of one scan as the upstream sends them, in the shape of a raw capture (zmq frames; a
 * PandA line as one frame; a Sardana POST as [path, body]), so they play as a capture plays.
 */
import { protocolNames } from './index.js';

export interface EmulateOptions {
  /** data messages of the scan: images, points, rows, sequences */
  frames: number;
  /** what `shape` means depends on the protocol (see `shapeMeaning`) */
  shape?: number[];
}

interface Emulator {
  /** what --shape gives, and how many numbers (any number when undefined); no entry: takes none */
  shape?: { meaning: string; length?: number };
  messages(frames: number, shape: number[] | undefined): Promise<Iterable<Buffer[]>>;
}

/** Contrast's mesh of `points` per axis: motors sx, sy, … with the NanoMAX pseudo-motor readings */
async function contrastScan(points: number[]): Promise<Iterable<Buffer[]>> {
  const { contrastMesh, nanomaxReadout } = await import('./contrast/emulator.js');
  const axes = points.map((n, i) => ({ motor: `s${'xyz'[i] ?? i}`, start: 0, stop: n - 1, intervals: n - 1 }));
  return contrastMesh({ axes, exposure: 0.1, detectors: nanomaxReadout({ x: 'sx', y: axes[1]?.motor ?? 'sx' }) });
}

const emulators: Record<string, Emulator> = {
  stins: {
    shape: { meaning: 'image shape, C order (default 64,64)' },
    messages: async (frames, shape) => (await import('./stins/emulator.js')).stinsSeries({ frames, shape: shape ?? [64, 64], dtype: 'uint16' }),
  },
  'eiger-legacy': {
    shape: { meaning: 'image x,y (default 64,32)', length: 2 },
    messages: async (frames, shape) => (await import('./eiger-legacy/emulator.js')).eigerSeries({ frames, shape: shape as [number, number] | undefined }),
  },
  xspress3: {
    shape: { meaning: 'channels,bins (default 4,4096)', length: 2 },
    messages: async (frames, shape) => (await import('./xspress3/emulator.js')).xspressSeries({ frames, channels: shape?.[0], bins: shape?.[1] }),
  },
  contrast: {
    shape: { meaning: 'mesh points per axis, slowest first (default frames); their product is the number of points' },
    messages: (frames, shape) => contrastScan(shape ?? [frames]),
  },
  pcap: {
    messages: async (frames) => (await import('./pcap/emulator.js')).pcapSeries({ rows: frames }),
  },
  positioncap: {
    messages: async (frames) => {
      const [{ pandaCapture }, { pandaLines }] = await Promise.all([import('./positioncap/emulator.js'), import('./positioncap/messages.js')]);
      return (function* () {
        for (const text of pandaCapture({ samples: frames })) for (const line of pandaLines(Buffer.from(text, 'latin1'))) yield [line];
      })();
    },
  },
  albaem: {
    messages: async (frames) => (await import('./albaem/emulator.js')).albaemSeries({ frames }),
  },
  lecroy: {
    shape: { meaning: 'segments,points per sequence (default 1,1000: continuous mode; more segments: sequential mode)', length: 2 },
    messages: async (frames, shape) => {
      const [segments, points] = shape ?? [1, 1000];
      return (await import('./lecroy/emulator.js')).lecroyAcquisition({ mode: segments > 1 ? 'sequential' : 'continuous', sequences: frames, segments, points });
    },
  },
  sardana: {
    messages: async (frames) => (await import('./sardana/emulator.js')).sardanaScanPosts({ points: frames }),
  },
};

/** one line per protocol: its name and what --shape means for it (the help of `dranspose source`) */
export function describeEmulators(): string[] {
  return Object.entries(emulators).map(([name, e]) => `${name}: ${e.shape?.meaning ?? 'takes no --shape'}`);
}

/** The messages of one emulated scan; a clear error for an unknown protocol or a shape it does not take. */
export async function emulatedScan(protocol: string, options: EmulateOptions): Promise<Iterable<Buffer[]>> {
  if (!Object.hasOwn(emulators, protocol)) throw new Error(`no emulator for ${JSON.stringify(protocol)} (known: ${protocolNames().join(', ')})`);
  const emulator = emulators[protocol];
  const { frames, shape } = options;
  if (!Number.isInteger(frames) || frames < 1) throw new Error(`--frames must be a positive integer, got ${frames}`);
  if (shape) {
    if (!emulator.shape) throw new Error(`the ${protocol} emulator takes no --shape`);
    if (emulator.shape.length !== undefined && shape.length !== emulator.shape.length) throw new Error(`--shape for ${protocol} is ${emulator.shape.meaning}`);
    if (!shape.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`--shape must be positive integers, got ${shape.join(',')}`);
  }
  return await emulator.messages(frames, shape);
}
