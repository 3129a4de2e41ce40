/** One STINS series as the ingester sees it (protocols.md §1.2): header, images, series_end. */
import type { StreamData } from '../../core/types.js';
import { scanSeries, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext } from '../types.js';
import { readStinsMessage, STINS_TYP, type StinsMessage } from './messages.js';

const ROLES = { header: 'start', image: 'data', series_end: 'end' } as const;

/** Frame 0 and the frame count are checked; payloads are not decoded here. */
const rules: SeriesRules<StinsMessage> = {
  typ: STINS_TYP,
  label: 'STINS',
  read: readStinsMessage,
  role: (message) => ROLES[message.htype],
};

export function scanStins(reader: MessageReader, ctx: SourceContext): AsyncGenerator<StreamData> {
  return scanSeries(rules, reader, ctx);
}
