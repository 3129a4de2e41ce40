/** One AlbaEM series as the ingester sees it (protocols.md §2.7): series-start, data…, series-end. */
import { numberInJsonFrame } from '../json-frame.js';
import { scanSeries, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext, UpstreamItems } from '../types.js';
import { ALBAEM_TYP, readAlbaemMessage, type AlbaemData, type AlbaemMessage } from './messages.js';

const ROLES = { 'series-start': 'start', data: 'data', 'series-end': 'end' } as const;

const rules: SeriesRules<AlbaemMessage> = {
  typ: ALBAEM_TYP,
  label: 'AlbaEM',
  read: readAlbaemMessage,
  role: (message) => ROLES[message.message_type],
  frameNumber: (message) => (message as AlbaemData).frame_number,
  frameOfRejected: (frames) => numberInJsonFrame(frames, 'frame_number'),
};

export function scanAlbaem(reader: MessageReader, ctx: SourceContext): UpstreamItems {
  return scanSeries(rules, reader, ctx);
}
