/**
 * Dectris Eiger legacy stream messages (SIMPLON stream API 1.x, protocols.md §2.2). Frame 0 is JSON
 * with `htype` dheader-1.0, dimage-1.0 or dseries_end-1.0.
 *
 * A header has, after frame 0: the detector configuration (detail `basic` and `all`), then for
 * detail `all` three [JSON, array] pairs (flatfield, pixel mask, count-rate table), then an
 * optional user appendix. An image has 5 frames: frame 0, the `dimage_d-1.0` part, the pixel
 * blob, the `dconfig-1.0` times and the image appendix. Shapes are `[x, y]`, fastest axis first.
 */
import { z } from 'zod';
import { isDType, type DType } from '../../core/ndarray.js';
import { checkFrameCount, readJsonFrame } from '../json-frame.js';

export const EIGER_LEGACY_TYP = 'EIGER_LEGACY';

export class EigerLegacyError extends Error {
  override name = 'EigerLegacyError';
}

const dtype = z.string().refine(isDType, { error: (issue) => `unknown dtype ${JSON.stringify(issue.input)}` });
const shape = z.array(z.int().nonnegative()).min(1);
/** detector clock times in ns; beyond 2^53 ns (104 days of uptime) they lose their last digits */
const nanoseconds = z.number();

export const eigerHeaderSchema = z.looseObject({
  htype: z.literal('dheader-1.0'),
  header_detail: z.enum(['all', 'basic', 'none']),
  series: z.int(),
});

export const eigerImageSchema = z.looseObject({
  htype: z.literal('dimage-1.0'),
  frame: z.int().nonnegative(),
  series: z.int(),
  hash: z.string().optional(),
});

export const eigerEndSchema = z.looseObject({
  htype: z.literal('dseries_end-1.0'),
  series: z.int(),
});

export const eigerMessageSchema = z.discriminatedUnion('htype', [eigerHeaderSchema, eigerImageSchema, eigerEndSchema]);

/** the detector configuration of a header (a few of its ~48 keys typed; the rest kept as sent) */
export const eigerInfoSchema = z.looseObject({
  x_pixels_in_detector: z.int().positive().optional(),
  y_pixels_in_detector: z.int().positive().optional(),
  nimages: z.int().optional(),
  ntrigger: z.int().optional(),
  count_time: z.number().optional(),
  frame_time: z.number().optional(),
  compression: z.string().optional(),
  bit_depth_image: z.int().optional(),
  photon_energy: z.number().optional(),
  wavelength: z.number().optional(),
  description: z.string().optional(),
});

export const EIGER_ARRAY_PARTS = {
  'dflatfield-1.0': 'flatfield',
  'dpixelmask-1.0': 'pixelmask',
  'dcountrate_table-1.0': 'countrate_table',
} as const;
export type EigerArrayName = (typeof EIGER_ARRAY_PARTS)[keyof typeof EIGER_ARRAY_PARTS];

export const eigerArrayPartSchema = z.looseObject({
  htype: z.enum(Object.keys(EIGER_ARRAY_PARTS) as [keyof typeof EIGER_ARRAY_PARTS]),
  shape,
  type: dtype,
});

export const eigerImageDataSchema = z.looseObject({
  htype: z.literal('dimage_d-1.0'),
  shape,
  type: dtype,
  /** `bs32-lz4<` (bitshuffle + LZ4, 32-bit elements), `lz4<`, or `<` (uncompressed) */
  encoding: z.string(),
  /** bytes of the pixel blob */
  size: z.int().nonnegative(),
});

export const eigerImageConfigSchema = z.looseObject({
  htype: z.literal('dconfig-1.0'),
  real_time: nanoseconds,
  start_time: nanoseconds,
  stop_time: nanoseconds,
});

export type EigerLegacyHeader = z.infer<typeof eigerHeaderSchema>;
export type EigerLegacyImageHeader = z.infer<typeof eigerImageSchema>;
export type EigerLegacyEnd = z.infer<typeof eigerEndSchema>;
export type EigerLegacyMessage = z.infer<typeof eigerMessageSchema>;
export type EigerInfo = z.infer<typeof eigerInfoSchema>;
export type EigerArrayPartHeader = z.infer<typeof eigerArrayPartSchema> & { type: DType };
export type EigerImageData = z.infer<typeof eigerImageDataSchema> & { type: DType };
export type EigerImageConfig = z.infer<typeof eigerImageConfigSchema>;

/** frames of a header by detail level: frame 0 [+ config] [+ 3 array pairs], and then maybe an appendix */
export const EIGER_HEADER_FRAMES = { none: 1, basic: 2, all: 8 } as const;
export const EIGER_IMAGE_FRAMES = 5;

/** Reads and checks frame 0 and the frame count of a message (not the parts after frame 0). */
export function readEigerLegacyMessage(frames: readonly Buffer[]): EigerLegacyMessage {
  const message = readJsonFrame(frames[0], eigerMessageSchema, 'Eiger legacy frame 0', EigerLegacyError);
  const what = `Eiger legacy ${message.htype} message`;
  switch (message.htype) {
    case 'dheader-1.0': {
      const parts = EIGER_HEADER_FRAMES[message.header_detail];
      checkFrameCount(frames, [parts, parts + 1], `${what} (header_detail ${message.header_detail})`, EigerLegacyError);
      break;
    }
    case 'dimage-1.0':
      checkFrameCount(frames, EIGER_IMAGE_FRAMES, what, EigerLegacyError);
      break;
    case 'dseries_end-1.0':
      checkFrameCount(frames, 1, what, EigerLegacyError);
      break;
  }
  return message;
}
