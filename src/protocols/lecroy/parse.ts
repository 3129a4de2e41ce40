/**
 * Turns a forwarded LeCroy StreamData into PREPARE, STOP, or one sequence with its waveforms as
 * NDArrays [segments, points] and the trigger times from the pickled lists, in `channels` order.
 */
import type { StreamData } from '../../core/types.js';
import { ndarrayFromBytes, type NDArray } from '../../core/ndarray.js';
import { loadPickle } from '../../core/pickle/read.js';
import {
  LECROY_TYP, LecroyError, readLecroyControl, readLecroyTraces,
  type LecroyPrepare, type LecroySeqEnd, type LecroySeqStart, type LecroyStop, type LecroyTraces,
} from './messages.js';

export interface LecroySequence {
  kind: 'sequence';
  start: LecroySeqStart;
  end: LecroySeqEnd;
  /** one entry per channel of `start.channels`, in that order */
  meta: LecroyTraces[];
  data: NDArray[];
  /** trigger times (epoch s), one per segment */
  timestamps: number[][];
}

export type LecroyPacket =
  | { kind: 'prepare'; message: LecroyPrepare }
  | { kind: 'stop'; message: LecroyStop }
  | LecroySequence;

function triggerTimes(frame: Buffer, meta: LecroyTraces): number[] {
  const what = `LeCroy traces of channel ${meta.ch}`;
  let times: unknown;
  try {
    times = loadPickle(frame);
  } catch (error) {
    throw new LecroyError(`${what}: trigger times (${frame.length} bytes) are not a pickle: ${(error as Error).message}`);
  }
  if (!Array.isArray(times) || !times.every((t) => typeof t === 'number')) {
    throw new LecroyError(`${what}: trigger times are not a list of floats`);
  }
  if (times.length !== meta.shape[0]) throw new LecroyError(`${what}: ${times.length} trigger times for ${meta.shape[0]} segments`);
  return times;
}

function waveforms(frame: Buffer, meta: LecroyTraces): NDArray {
  try {
    return ndarrayFromBytes(frame, meta.dtype, meta.shape);
  } catch (error) {
    throw new LecroyError(`LeCroy traces of channel ${meta.ch}: ${(error as Error).message}`);
  }
}

function parseSequence(frames: Buffer[]): LecroySequence {
  const first = readLecroyControl(frames[0]);
  if (first.kind !== 'seqstart') throw new LecroyError(`LeCroy event of ${frames.length} frames starts with ${first.kind}, expected SEQ START`);
  const start = first.message;
  const expected = 2 + 3 * start.channels.length;
  if (frames.length !== expected) {
    throw new LecroyError(`LeCroy sequence of ${start.channels.length} channels has ${frames.length} frames, expected ${expected}`);
  }
  const last = readLecroyControl(frames[expected - 1]);
  if (last.kind !== 'seqend') throw new LecroyError(`LeCroy sequence ends with ${last.kind}, expected SEQ END`);
  const sequence: LecroySequence = { kind: 'sequence', start, end: last.message, meta: [], data: [], timestamps: [] };
  for (let i = 1; i < expected - 1; i += 3) {
    const meta = readLecroyTraces(frames[i]);
    const slot = start.channels.indexOf(meta.ch);
    if (slot === -1 || sequence.meta[slot]) {
      throw new LecroyError(`LeCroy traces of channel ${meta.ch} ${slot === -1 ? 'is not among' : 'appears twice for'} channels [${start.channels.join(', ')}]`);
    }
    sequence.meta[slot] = meta;
    sequence.data[slot] = waveforms(frames[i + 1], meta);
    sequence.timestamps[slot] = triggerTimes(frames[i + 2], meta);
  }
  return sequence;
}

export function parseLecroy(data: StreamData): LecroyPacket {
  if (data.typ !== LECROY_TYP) throw new LecroyError(`expected StreamData of typ ${LECROY_TYP}, got ${JSON.stringify(data.typ)}`);
  if (data.frames.length !== 1) return parseSequence(data.frames);
  const control = readLecroyControl(data.frames[0]);
  if (control.kind === 'prepare' || control.kind === 'stop') return control;
  throw new LecroyError(`LeCroy ${control.kind} alone is not an event (a sequence has SEQ START, traces and SEQ END)`);
}
