/**
 * A fake LeCroy MAUI scope: the messages of one acquisition in continuous mode (one trigger per
 * sequence, SEQ START sent once) or sequential mode (`segments` triggers per sequence, SEQ START
 * before each), with Gaussian pulses whose heights are known, and trigger times pickled the way
 * the scope's Python sender does (protocol 4, one frame, a list of floats).
 */

export interface LecroyAcquisitionOptions {
  mode: 'continuous' | 'sequential';
  /** number of sequences */
  sequences: number;
  /** default [2, 4] */
  channels?: number[];
  /** sequential mode: segments (triggers) per sequence (default 20); continuous mode has 1 */
  segments?: number;
  /** samples per segment (default 1000) */
  points?: number;
  /** epoch seconds of the first trigger (default 1740736916.442) */
  startTime?: number;
}

const SEQUENCE_SECONDS = 3;
const SEGMENT_SECONDS = 0.1;

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** the height of the pulse, i.e. the maximum of segment `segment` of sequence `sequence` on channel `channel` */
export function emulatedPulseHeight(channel: number, sequence: number, segment: number): number {
  return 0.1 + 0.01 * channel + 0.001 * sequence + 0.0001 * segment;
}

/** the trigger time of a segment */
export function emulatedTriggerTime(options: LecroyAcquisitionOptions, sequence: number, segment: number): number {
  return (options.startTime ?? 1740736916.442) + sequence * SEQUENCE_SECONDS + segment * SEGMENT_SECONDS;
}

/** a pulse of the given height at the middle of the segment, on a baseline slightly below zero */
function waveforms(channel: number, sequence: number, segments: number, points: number): Float64Array {
  const out = new Float64Array(segments * points);
  const centre = points >> 1;
  const width = points / 20;
  for (let segment = 0; segment < segments; segment++) {
    const height = emulatedPulseHeight(channel, sequence, segment);
    for (let i = 0; i < points; i++) {
      const g = Math.exp(-(((i - centre) / width) ** 2));
      out[segment * points + i] = height * g - 0.004 * (1 - g);
    }
  }
  return out;
}

/**
 * Python's `pickle.dumps(list_of_floats, protocol=4)`: PROTO 4, one FRAME, the list, APPENDS in
 * batches of 1000 (byte for byte while the pickle stays under Python's 64 KiB frame target).
 */
export function pickleFloatList(values: readonly number[]): Buffer {
  const body: Buffer[] = [Buffer.from([0x5d, 0x94])]; // EMPTY_LIST MEMOIZE
  const float = (v: number) => { const b = Buffer.alloc(9); b[0] = 0x47; b.writeDoubleBE(v, 1); return b; }; // BINFLOAT
  for (let start = 0; start < values.length; start += 1000) {
    const batch = values.slice(start, start + 1000);
    if (batch.length === 1) body.push(float(batch[0]), Buffer.from([0x61])); // APPEND
    else body.push(Buffer.from([0x28]), ...batch.map(float), Buffer.from([0x65])); // MARK … APPENDS
  }
  body.push(Buffer.from([0x2e])); // STOP
  const payload = Buffer.concat(body);
  const head = Buffer.alloc(11);
  head[0] = 0x80; head[1] = 4; head[2] = 0x95; // PROTO 4, FRAME
  head.writeBigUInt64LE(BigInt(payload.length), 3);
  return Buffer.concat([head, payload]);
}

/** The messages of one acquisition, made one at a time (waveforms can be large). */
export function* lecroyAcquisition(options: LecroyAcquisitionOptions): Generator<Buffer[]> {
  const channels = options.channels ?? [2, 4];
  const continuous = options.mode === 'continuous';
  const segments = continuous ? 1 : options.segments ?? 20;
  const points = options.points ?? 1000;
  let counter = 0;
  const seqStart = (seqno: number) => [json({ htype: 'msg', what: 1, frame: counter, ntriggers: continuous ? -1 : segments, seqno, channels })];
  yield [json({ htype: 'msg', what: 0, frame: 0 })];
  if (continuous) yield seqStart(0);
  for (let sequence = 0; sequence < options.sequences; sequence++) {
    if (!continuous) yield seqStart(sequence);
    const times = Array.from({ length: segments }, (_, segment) => emulatedTriggerTime(options, sequence, segment));
    for (const ch of channels) {
      const data = waveforms(ch, sequence, segments, points);
      yield [
        json({ htype: 'traces', ch, ts: times[0], frame: counter++, shape: [segments, points], horiz_offset: -1e-7, horiz_interval: 1.25e-11, dtype: 'float64' }),
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        pickleFloatList(times),
      ];
    }
    yield [json({ htype: 'msg', what: 2, frame: counter })];
  }
  yield [json({ htype: 'msg', what: 3, frame: counter, frames: counter })];
}

export function lecroyAcquisitionMessages(options: LecroyAcquisitionOptions): Buffer[][] {
  return [...lecroyAcquisition(options)];
}
