/** PandABox position capture through the Tango PCAP zmq publisher: JSON chunks over PUB/SUB, one event per row. */
import type { UpstreamProtocol } from '../types.js';
import { PCAP_TYP, type PcapMessage } from './messages.js';
import { parsePcap } from './parse.js';
import { scanPcap } from './scan.js';

export const pcap: UpstreamProtocol<PcapMessage> = {
  name: 'pcap',
  typ: PCAP_TYP,
  transport: 'zmq-sub',
  scan: scanPcap,
  parse: parsePcap,
};

export * from './messages.js';
