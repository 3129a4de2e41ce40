/**
 * A fake AlbaEM electrometer: the JSON messages of one series (series-start, one data message per
 * acquisition, series-end) as the device writes them, with its nanosecond timestamps beyond 2^53.
 */
import { stringifyPythonJson } from './json.js';

export interface AlbaemSeriesOptions {
  /** number of acquisitions */
  frames: number;
  /** seconds between acquisitions (default 0.1) */
  interval?: number;
  /** acquisition_timestamp of the first acquisition, ns since the epoch (default 2024-01-09T13:42:50.443944912Z) */
  startNs?: bigint;
  /** varies the currents (default 0) */
  seed?: number;
}

const DEFAULT_START_NS = 1704807770443944912n;

/** The four currents (A) the emulator reports for acquisition `frame`: a few 1e-10 A, a different pattern per channel. */
export function emulatedCurrents(frame: number, seed = 0): [number, number, number, number] {
  const current = (channel: number) => ((((frame + 1) * 7919 + (seed + 1) * 104729 * channel) % 1000) - 500) * 1e-12;
  return [current(1), current(2), current(3), current(4)];
}

function message(value: Record<string, unknown>): Buffer[] {
  return [Buffer.from(stringifyPythonJson({ version: 1, ...value }))];
}

/** The messages of one series, made one at a time. */
export function* albaemSeries(options: AlbaemSeriesOptions): Generator<Buffer[]> {
  const interval = options.interval ?? 0.1;
  const start = options.startNs ?? DEFAULT_START_NS;
  let id = 1;
  yield message({ message_type: 'series-start', message_id: id++ });
  for (let frame = 0; frame < options.frames; frame++) {
    const [channel1, channel2, channel3, channel4] = emulatedCurrents(frame, options.seed);
    yield message({
      message_type: 'data', message_id: id++, frame_number: frame, timestamp: (frame + 1) * interval,
      acquisition_timestamp: start + BigInt(Math.round(frame * interval * 1e9)), channel1, channel2, channel3, channel4,
    });
  }
  yield message({ message_type: 'series-end', message_id: id, detector_specific: { read_overflow: false, memory_overflow: false } });
}

export function albaemSeriesMessages(options: AlbaemSeriesOptions): Buffer[][] {
  return [...albaemSeries(options)];
}
