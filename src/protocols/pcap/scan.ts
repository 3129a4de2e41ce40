/**
 * One PCAP series as the ingester sees it (protocols.md §2.5): series-start, then every data
 * chunk split into one event per row, then series-end.
 */
import { numberInJsonFrame } from '../json-frame.js';
import { scanSeries, type MessageRole, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext, UpstreamItems } from '../types.js';
import { PCAP_TYP, readPcapUpstreamMessage, splitPcapChunk, type PcapChunk, type PcapUpstreamMessage } from './messages.js';

const ROLES: Record<PcapUpstreamMessage['message_type'], MessageRole> = { 'series-start': 'start', data: 'data', 'series-end': 'end' };

const rules: SeriesRules<PcapUpstreamMessage> = {
  typ: PCAP_TYP,
  label: 'PCAP',
  read: readPcapUpstreamMessage,
  role: (message) => ROLES[message.message_type],
  frameNumber: (message) => (message as PcapChunk).frame_number,
  frameOfRejected: (frames) => numberInJsonFrame(frames, 'frame_number'),
  // only data messages are expanded: chunks, one event per row, numbered from the chunk's first row
  expand: (_, chunk) => splitPcapChunk(chunk as PcapChunk).map((row, i) => ({ frames: [row], frame: (chunk as PcapChunk).frame_number + i })),
};

export function scanPcap(reader: MessageReader, ctx: SourceContext): UpstreamItems {
  return scanSeries(rules, reader, ctx);
}
