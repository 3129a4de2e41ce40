/** One STINS series as the ingester sees it (protocols.md §1.2): header, images, series_end. */
import { elementCount, itemSize } from '../../core/ndarray.js';
import { numberInJsonFrame } from '../json-frame.js';
import { scanSeries, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext, UpstreamItems } from '../types.js';
import { readPlainImageHeader, readStinsMessage, StinsError, STINS_TYP, type StinsImageHeader, type StinsMessage } from './messages.js';

const ROLES = { header: 'start', image: 'data', series_end: 'end' } as const;

/**
 * Frame 0, the frame count and, for uncompressed images, the payload size are checked; compressed
 * payloads are not decoded here. An image whose header is valid keeps its place by its frame number.
 */
const rules: SeriesRules<StinsMessage> = {
  typ: STINS_TYP,
  label: 'STINS',
  // most messages are images with a plain header; readStinsMessage reads the others and words refusals
  read: (frames) => (frames.length === 2 ? readPlainImageHeader(frames[0]) : undefined) ?? readStinsMessage(frames),
  role: (message) => ROLES[message.htype],
  frameNumber: (message) => (message as StinsImageHeader).frame,
  frameOfRejected: (frames) => numberInJsonFrame(frames, 'frame'),
  check(frames, message) {
    const header = message as StinsImageHeader;
    if (header.compression !== 'none') return;
    const expected = elementCount(header.shape) * itemSize(header.type);
    if (frames[1].length !== expected) {
      throw new StinsError(`STINS image frame ${header.frame}: ${frames[1].length} payload bytes, its shape ${JSON.stringify(header.shape)} of ${header.type} needs ${expected}`);
    }
  },
};

export function scanStins(reader: MessageReader, ctx: SourceContext): UpstreamItems {
  return scanSeries(rules, reader, ctx);
}
