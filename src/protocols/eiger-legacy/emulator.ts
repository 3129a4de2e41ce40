/**
 * A fake Eiger in legacy stream mode: the messages of one series as the detector sends them
 * (compact JSON parts, bslz4 pixel blobs with the 12-byte header, md5 of each blob), with the
 * deterministic pixel pattern of the STINS emulator.
 */
import { createHash } from 'node:crypto';
import { bslz4Encode } from '../../core/compression/bslz4.js';
import type { NDArray } from '../../core/ndarray.js';
import { emulatedImage } from '../stins/emulator.js';

export interface EigerSeriesOptions {
  /** number of images */
  frames: number;
  /** Eiger `[x, y]`: pixels per row, rows (default [64, 32]) */
  shape?: [number, number];
  series?: number;
  header_detail?: 'all' | 'basic' | 'none';
  /** the header appendix (JSON); none when absent */
  appendix?: unknown;
  /** varies the pixel pattern (default 0) */
  seed?: number;
  /** seconds per frame (default 0.01) */
  frameTime?: number;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** the pixels of image `frame`, C order [y, x], uint32 */
export function emulatedEigerImage(options: EigerSeriesOptions, frame: number): NDArray {
  const [x, y] = options.shape ?? [64, 32];
  return emulatedImage({ frames: options.frames, shape: [y, x], dtype: 'uint32', seed: options.seed }, frame);
}

function bytesOf(array: Float32Array | Uint32Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

function detectorConfig(options: EigerSeriesOptions): Record<string, unknown> {
  const [x, y] = options.shape ?? [64, 32];
  const frameTime = options.frameTime ?? 0.01;
  return {
    auto_summation: true, bit_depth_image: 32, bit_depth_readout: 16, compression: 'bslz4', count_time: frameTime - 1e-7,
    countrate_correction_applied: true, data_collection_date: new Date().toISOString(), description: 'Dectris EIGER2 emulator',
    detector_number: 'E-00-0000', frame_time: frameTime, nimages: options.frames, ntrigger: 1, photon_energy: 8041.0,
    sensor_material: 'CdTe', sensor_thickness: 0.00075, threshold_energy: 4020.5, trigger_mode: 'ints', wavelength: 1.5419002416764116,
    x_pixel_size: 0.000075, x_pixels_in_detector: x, y_pixel_size: 0.000075, y_pixels_in_detector: y,
  };
}

/** The messages of one series, made one at a time. */
export function* eigerSeries(options: EigerSeriesOptions): Generator<Buffer[]> {
  const series = options.series ?? 1;
  const detail = options.header_detail ?? 'all';
  const [x, y] = options.shape ?? [64, 32];
  const header: Buffer[] = [json({ header_detail: detail, htype: 'dheader-1.0', series })];
  if (detail !== 'none') header.push(json(detectorConfig(options)));
  if (detail === 'all') {
    header.push(json({ htype: 'dflatfield-1.0', shape: [x, y], type: 'float32' }), bytesOf(new Float32Array(x * y).fill(1)));
    header.push(json({ htype: 'dpixelmask-1.0', shape: [x, y], type: 'uint32' }), bytesOf(new Uint32Array(x * y)));
    header.push(json({ htype: 'dcountrate_table-1.0', shape: [2, 1001], type: 'float32' }),
      bytesOf(Float32Array.from({ length: 2002 }, (_, i) => i % 1001)));
  }
  if (options.appendix !== undefined) header.push(json(options.appendix));
  yield header;
  const realTime = Math.round((options.frameTime ?? 0.01) * 1e9) - 100;
  const start = 103597359252740;
  for (let frame = 0; frame < options.frames; frame++) {
    const image = emulatedEigerImage(options, frame);
    const blob = bslz4Encode(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength), 4);
    const startTime = start + frame * (realTime + 100);
    yield [
      json({ frame, hash: createHash('md5').update(blob).digest('hex'), htype: 'dimage-1.0', series }),
      json({ encoding: 'bs32-lz4<', htype: 'dimage_d-1.0', shape: [x, y], size: blob.length, type: 'uint32' }),
      blob,
      json({ htype: 'dconfig-1.0', real_time: realTime, start_time: startTime, stop_time: startTime + realTime }),
      json({}),
    ];
  }
  yield [json({ htype: 'dseries_end-1.0', series })];
}

export function eigerSeriesMessages(options: EigerSeriesOptions): Buffer[][] {
  return [...eigerSeries(options)];
}
