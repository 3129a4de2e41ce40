/**
 * One PCAP series as the ingester sees it (protocols.md §2.5): series-start, then every data
 * chunk split into one event per row, then series-end.
 */
import type { StreamData } from '../../core/types.js';
import { scanSeries, type MessageRole, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext } from '../types.js';
import { PCAP_TYP, readPcapUpstreamMessage, splitPcapChunk, type PcapChunk, type PcapUpstreamMessage } from './messages.js';

const ROLES: Record<PcapUpstreamMessage['message_type'], MessageRole> = { 'series-start': 'start', data: 'data', 'series-end': 'end' };

const rules: SeriesRules<PcapUpstreamMessage> = {
  typ: PCAP_TYP,
  label: 'PCAP',
  read: readPcapUpstreamMessage,
  role: (message) => ROLES[message.message_type],
  // only data messages are expanded: chunks
  expand: (_, chunk) => splitPcapChunk(chunk as PcapChunk).map((row) => [row]),
};

export function scanPcap(reader: MessageReader, ctx: SourceContext): AsyncGenerator<StreamData> {
  return scanSeries(rules, reader, ctx);
}
