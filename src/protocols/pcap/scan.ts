/**
 * One PCAP series as the ingester sees it (protocols.md §2.5): series-start, then every data
 * chunk split into one event per row, then series-end.
 */
import type { StreamData } from '../../core/types.js';
import { scanSeries, type MessageRole, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext } from '../types.js';
import { PCAP_TYP, readPcapUpstreamMessage, splitPcapChunk, type PcapChunk, type PcapUpstreamMessage } from './messages.js';

const ROLES: Record<PcapUpstreamMessage['message_type'], MessageRole> = { 'series-start': 'start', data: 'data', 'series-end': 'end' };

function pcapRules(): SeriesRules {
  /** the chunk classify() just read, so expand() need not parse its JSON again */
  let chunk: PcapChunk | undefined;
  return {
    typ: PCAP_TYP,
    label: 'PCAP',
    classify(frames) {
      const message = readPcapUpstreamMessage(frames);
      chunk = message.message_type === 'data' ? message : undefined;
      return ROLES[message.message_type];
    },
    expand: () => splitPcapChunk(chunk!).map((row) => [row]), // scanSeries expands only what classify() just called data
  };
}

export function scanPcap(reader: MessageReader, ctx: SourceContext): AsyncGenerator<StreamData> {
  return scanSeries(pcapRules(), reader, ctx);
}
