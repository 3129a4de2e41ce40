/** One AlbaEM series as the ingester sees it (protocols.md §2.7): series-start, data…, series-end. */
import type { StreamData } from '../../core/types.js';
import { scanSeries, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext } from '../types.js';
import { ALBAEM_TYP, readAlbaemMessage, type AlbaemMessage } from './messages.js';

const ROLES = { 'series-start': 'start', data: 'data', 'series-end': 'end' } as const;

const rules: SeriesRules<AlbaemMessage> = {
  typ: ALBAEM_TYP,
  label: 'AlbaEM',
  read: readAlbaemMessage,
  role: (message) => ROLES[message.message_type],
};

export function scanAlbaem(reader: MessageReader, ctx: SourceContext): AsyncGenerator<StreamData> {
  return scanSeries(rules, reader, ctx);
}
