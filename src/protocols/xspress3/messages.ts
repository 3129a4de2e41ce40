/**
 * Xspress3 wire messages (protocols.md §2.3): frame 0 is JSON with `htype` header, image or
 * series_end. An image comes with two more frames, the spectra (raw C-order `[channels, bins]`)
 * and a pickled list of per-channel counter arrays, either in the same message (multipart) or as
 * the next two single-part messages (legacy).
 */
import { z } from 'zod';
import { isDType, isNDArray, itemSize, type DType, type NDArray } from '../../core/ndarray.js';
import { loadPickleFrame, readJsonFrame } from '../json-frame.js';

export const XSPRESS_TYP = 'xspress';

export const xspressStartSchema = z.looseObject({
  htype: z.literal('header'),
  filename: z.string(),
  overwritable: z.boolean().optional(),
});

export const xspressImageSchema = z.looseObject({
  htype: z.literal('image'),
  frame: z.int().nonnegative(),
  /** [channels, bins] */
  shape: z.tuple([z.int().positive(), z.int().nonnegative()]),
  exptime: z.number().default(1),
  type: z.string().refine(isDType, { error: (issue) => `unknown dtype ${JSON.stringify(issue.input)}` }),
  compression: z.literal('none').default('none'),
});

export const xspressEndSchema = z.looseObject({ htype: z.literal('series_end') });

export const xspressMessageSchema = z.discriminatedUnion('htype', [xspressStartSchema, xspressImageSchema, xspressEndSchema]);

export type XspressStart = z.infer<typeof xspressStartSchema>;
export type XspressImageHeader = z.infer<typeof xspressImageSchema> & { type: DType };
export type XspressEnd = z.infer<typeof xspressEndSchema>;
export type XspressMessage = XspressStart | XspressImageHeader | XspressEnd;

/** The per-channel counters of the metadata pickle, in the device's order. */
export const XSPRESS_COUNTERS = ['ocr', 'AllEvents', 'AllGood', 'ClockTicks', 'TotalTicks', 'ResetTicks', 'event_widths', 'dtc'] as const;

export type XspressMeta = Record<(typeof XSPRESS_COUNTERS)[number], NDArray> & {
  /** newer devices add a 9th array, shape (2, channels) */
  window_counts?: NDArray;
};

export class XspressError extends Error {
  override name = 'XspressError';
}

/** Reads and checks the JSON of frame 0; throws an XspressError naming what is wrong. */
export function readXspressMessage(frame: Buffer): XspressMessage {
  return readJsonFrame(frame, xspressMessageSchema, 'Xspress3 message', XspressError) as XspressMessage;
}

/** bytes the spectra frame of this image must have */
function spectraBytes(header: XspressImageHeader): number {
  return header.shape[0] * header.shape[1] * itemSize(header.type);
}

/** Checks the spectra frame's size against the image's shape and type. */
export function checkSpectra(header: XspressImageHeader, spectra: Buffer): void {
  const expected = spectraBytes(header);
  if (spectra.length !== expected) {
    throw new XspressError(`Xspress3 image ${header.frame}: spectra frame has ${spectra.length} bytes, `
      + `shape ${JSON.stringify(header.shape)} of ${header.type} needs ${expected}`);
  }
}

/** Unpickles the metadata frame: 8 (or 9) arrays with one value per channel, named as the device names them. */
export function readXspressMeta(header: XspressImageHeader, frame: Buffer): XspressMeta {
  const where = `Xspress3 image ${header.frame}: meta frame`;
  const value = loadPickleFrame(frame, where, XspressError);
  if (!Array.isArray(value) || !value.every(isNDArray)) throw new XspressError(`${where} is not a list of numpy arrays`);
  if (value.length !== XSPRESS_COUNTERS.length && value.length !== XSPRESS_COUNTERS.length + 1) {
    throw new XspressError(`${where} has ${value.length} arrays, expected ${XSPRESS_COUNTERS.length} or ${XSPRESS_COUNTERS.length + 1}`);
  }
  const channels = header.shape[0];
  const meta: Partial<XspressMeta> = {};
  XSPRESS_COUNTERS.forEach((name, i) => {
    const array = value[i] as NDArray;
    if (array.shape.length !== 1 || array.shape[0] !== channels) {
      throw new XspressError(`${where}: ${name} has shape ${JSON.stringify(array.shape)}, expected [${channels}]`);
    }
    meta[name] = array;
  });
  if (value.length > XSPRESS_COUNTERS.length) meta.window_counts = value[XSPRESS_COUNTERS.length] as NDArray;
  return meta as XspressMeta;
}
