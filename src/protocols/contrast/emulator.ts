/**
 * A fake Contrast scan: the messages Contrast's StreamRecorder publishes for a `mesh` scan, as it
 * writes them (tango.md §5): protocol-2 pickled dicts, the running ones OrderedDicts, numpy arrays
 * for array readings, and heartbeats pickled with Python's default protocol.
 */
import { ndarray } from '../../core/ndarray.js';
import { encodePickle2 } from './pickle2.js';

/** `pickle.dumps({'status': 'heartbeat'})` with Python 3's default protocol 4, as Contrast sends it */
export const CONTRAST_HEARTBEAT = Buffer.from('80049519000000000000007d948c06737461747573948c0968656172746265617494732e', 'hex');

export interface ContrastAxis {
  motor: string;
  start: number;
  stop: number;
  intervals: number;
}

/** motor name → position */
export type ContrastPosition = Record<string, number>;

export interface ContrastMeshOptions {
  /** slowest first, as in `mesh sx -2 2 3 sy -2 2 4 0.1` */
  axes: ContrastAxis[];
  /** seconds per point */
  exposure: number;
  scannr?: number;
  path?: string;
  /** motor positions reported at start and end (default: each axis at its start) */
  snapshot?: ContrastPosition;
  /** detector readings of a point, written after the motor positions */
  detectors?: (position: ContrastPosition, index: number) => Record<string, unknown>;
  /** a heartbeat after every this many points (Contrast sends one every 10 s); default none */
  heartbeatEvery?: number;
  /** end with status `interrupted` after this many points */
  interruptAfter?: number;
  /** the mesh command line by default; null (None) for a scan run from a script or a GUI, as Contrast sends it */
  description?: string | null;
}

/** Contrast's mesh: `np.linspace` per axis, the last axis moving fastest. */
export function meshPositions(axes: readonly ContrastAxis[]): ContrastPosition[] {
  let points: ContrastPosition[] = [{}];
  for (const { motor, start, stop, intervals } of axes) {
    const steps = Array.from({ length: intervals + 1 }, (_, i) => (intervals === 0 ? start : start + ((stop - start) * i) / intervals));
    points = points.flatMap((point) => steps.map((value) => ({ ...point, [motor]: value })));
  }
  return points;
}

/** the `description` Contrast gives a mesh scan */
export function meshDescription(options: Pick<ContrastMeshOptions, 'axes' | 'exposure'>): string {
  return ['mesh', ...options.axes.flatMap((a) => [a.motor, a.start, a.stop, a.intervals]), options.exposure].join(' ');
}

/**
 * The readings of NanoMAX's scans: pseudo motors `x`, `y`, `z` as one-element float64 arrays
 * (taken from the named motors; z is 0) and, optionally, the HDF5 link of an Xspress3 detector.
 */
export function nanomaxReadout(options: { x: string; y: string; xspress3File?: string }) {
  return (position: ContrastPosition): Record<string, unknown> => ({
    pseudo: {
      x: ndarray(Float64Array.of(position[options.x] ?? 0)),
      y: ndarray(Float64Array.of(position[options.y] ?? 0)),
      z: ndarray(Float64Array.of(0)),
    },
    ...(options.xspress3File === undefined ? {} : {
      xspress3: { type: 'Link', filename: options.xspress3File, path: '/entry/instrument/xspress3/', universal: true },
    }),
  });
}

/** The frames of one mesh scan, one message at a time: started, running…, finished or interrupted. */
export function* contrastMesh(options: ContrastMeshOptions): Generator<Buffer[]> {
  const scan = {
    scannr: BigInt(options.scannr ?? 1),
    path: options.path ?? '/tmp/contrast',
    snapshot: options.snapshot ?? Object.fromEntries(options.axes.map((a) => [a.motor, a.start])),
    description: options.description === undefined ? meshDescription(options) : options.description,
  };
  // Contrast's key order: scannr, status, path, snapshot, description
  const summary = (status: string) => [encodePickle2({ scannr: scan.scannr, status, path: scan.path, snapshot: scan.snapshot, description: scan.description })];
  yield summary('started');
  const points = meshPositions(options.axes);
  const count = Math.min(points.length, options.interruptAfter ?? points.length);
  for (let index = 0; index < count; index++) {
    const position = points[index];
    yield [encodePickle2(new Map<string, unknown>([
      ...Object.entries(position),
      ...Object.entries(options.detectors?.(position, index) ?? {}),
      ['dt', (index + 1) * options.exposure],
      ['status', 'running'],
    ]))];
    if (options.heartbeatEvery && (index + 1) % options.heartbeatEvery === 0) yield [CONTRAST_HEARTBEAT];
  }
  yield summary(count < points.length ? 'interrupted' : 'finished');
}

export function contrastMeshMessages(options: ContrastMeshOptions): Buffer[][] {
  return [...contrastMesh(options)];
}
