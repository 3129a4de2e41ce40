/** Turns a forwarded PCAP StreamData into its message: series-start, one data row, or series-end. */
import type { StreamData } from '../../core/types.js';
import { PCAP_TYP, PcapError, readPcapMessage, type PcapMessage } from './messages.js';

export function parsePcap(data: StreamData): PcapMessage {
  if (data.typ !== PCAP_TYP) throw new PcapError(`expected StreamData of typ ${PCAP_TYP}, got ${JSON.stringify(data.typ)}`);
  return readPcapMessage(data.frames);
}
