/**
 * A fake Xspress3 detector: the wire messages of one series (header, images, series_end) in the
 * legacy variant (each image as three single-part messages) or the multipart one (one 3-part
 * message, as newer devices send, with header limits and a 9th meta array), with deterministic
 * spectra and the per-channel counters the device derives from them.
 */
import { ndarray, type NDArray } from '../../core/ndarray.js';
import { encodePickle } from '../../core/pickle/write.js';

export type XspressVariant = 'legacy' | 'multipart';

export interface XspressSeriesOptions {
  /** number of images */
  frames: number;
  channels?: number;
  bins?: number;
  /** seconds per image */
  exptime?: number;
  variant?: XspressVariant;
  filename?: string;
  /** varies the spectra (default 0) */
  seed?: number;
}

/** the Xspress3 clock runs at 80 MHz */
const CLOCK_HZ = 80_000_000;

const EXTRA_TAGS = ['output_count_rate', 'all_events', 'all_good', 'clock_ticks', 'total_ticks', 'reset_ticks',
  'event_width', 'dead_time_correction', 'window_counts'];

function settings(options: XspressSeriesOptions) {
  return { channels: options.channels ?? 4, bins: options.bins ?? 4096, exptime: options.exptime ?? 0.1, seed: options.seed ?? 0 };
}

/** The spectra the emulator sends as image `frame`: uint32 [channels, bins], 0…7 counts per bin. */
export function emulatedSpectra(options: XspressSeriesOptions, frame: number): NDArray<Uint32Array> {
  const { channels, bins, seed } = settings(options);
  const data = new Uint32Array(channels * bins);
  const key = Math.imul(frame + 1, 0x85ebca6b) ^ Math.imul(seed + 1, 0xc2b2ae35);
  for (let i = 0; i < data.length; i++) data[i] = Math.imul(i ^ key, 0x9e3779b1) >>> 29;
  return { data, shape: [channels, bins], dtype: 'uint32' };
}

/** The device's counters for these spectra, in its order; AllGood is each channel's sum, as on the real device. */
export function emulatedMeta(options: XspressSeriesOptions, spectra: NDArray<Uint32Array>): NDArray[] {
  const { exptime } = settings(options);
  const [channels, bins] = spectra.shape;
  const allGood = new Uint32Array(channels);
  for (let c = 0; c < channels; c++) {
    for (let b = 0; b < bins; b++) allGood[c] += spectra.data[c * bins + b];
  }
  const ticks = Math.round(exptime * CLOCK_HZ) - 10;
  const perChannel = <T extends Float64Array | Uint32Array | Int32Array>(make: new (n: number) => T, value: (c: number) => number) => {
    const array = new make(channels);
    for (let c = 0; c < channels; c++) array[c] = value(c);
    return ndarray(array);
  };
  const allEvents = (c: number) => allGood[c] + c + 1;
  const meta = [
    perChannel(Float64Array, (c) => allGood[c] / exptime),                  // ocr
    perChannel(Uint32Array, allEvents),                                      // AllEvents
    ndarray(allGood),                                                        // AllGood
    perChannel(Uint32Array, () => ticks),                                    // ClockTicks
    perChannel(Uint32Array, () => ticks),                                    // TotalTicks
    perChannel(Uint32Array, (c) => 100 * c),                                 // ResetTicks
    perChannel(Int32Array, () => 6),                                         // event_widths
    perChannel(Float64Array, (c) => 1 + allEvents(c) * 1e-7),               // dtc
  ];
  if (options.variant === 'multipart') meta.push(ndarray(new Uint32Array(2 * channels), [2, channels])); // window_counts
  return meta;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** The messages of one series, made one at a time. */
export function* xspressSeries(options: XspressSeriesOptions): Generator<Buffer[]> {
  const { channels, bins, exptime } = settings(options);
  const multipart = options.variant === 'multipart';
  const zeroLimits = Array.from({ length: 2 }, () => Array.from({ length: channels }, () => [0, 0]));
  yield [json({
    htype: 'header', filename: options.filename ?? '', overwritable: false,
    ...(multipart ? { limits: zeroLimits, extra_tags: EXTRA_TAGS } : {}),
  })];
  for (let frame = 0; frame < options.frames; frame++) {
    const spectra = emulatedSpectra(options, frame);
    const image = [
      json({ htype: 'image', exptime, frame, shape: [channels, bins], type: 'uint32', compression: 'none' }),
      Buffer.from(spectra.data.buffer, spectra.data.byteOffset, spectra.data.byteLength),
      encodePickle(emulatedMeta(options, spectra)),
    ];
    if (multipart) yield image;
    else for (const part of image) yield [part];
  }
  yield [json({ htype: 'series_end' })];
}

export function xspressSeriesMessages(options: XspressSeriesOptions): Buffer[][] {
  return [...xspressSeries(options)];
}
