/** Every upstream protocol, by the name used in configs and on the command line. */
import type { UpstreamProtocol } from './types.js';
import { stins } from './stins/index.js';
import { contrast } from './contrast/index.js';
import { xspress3 } from './xspress3/index.js';
import { albaem } from './albaem/index.js';
import { eigerLegacy } from './eiger-legacy/index.js';
import { lecroy } from './lecroy/index.js';
import { pcap } from './pcap/index.js';
import { positioncap } from './positioncap/index.js';
import { sardana } from './sardana/index.js';

const protocols = new Map<string, UpstreamProtocol>([stins, contrast, xspress3, albaem, eigerLegacy, lecroy, pcap, positioncap, sardana].map((p) => [p.name, p]));

export function getProtocol(name: string): UpstreamProtocol {
  const protocol = protocols.get(name);
  if (!protocol) throw new Error(`unknown protocol ${JSON.stringify(name)} (known: ${[...protocols.keys()].join(', ')})`);
  return protocol;
}

export function protocolNames(): string[] {
  return [...protocols.keys()];
}
