/** Every upstream protocol, by the name used in configs and on the command line. */
import type { UpstreamProtocol } from './types.js';
import { stins } from './stins/index.js';

const protocols = new Map<string, UpstreamProtocol>([stins].map((p) => [p.name, p]));

export function getProtocol(name: string): UpstreamProtocol {
  const protocol = protocols.get(name);
  if (!protocol) throw new Error(`unknown protocol ${JSON.stringify(name)} (known: ${[...protocols.keys()].join(', ')})`);
  return protocol;
}

export function protocolNames(): string[] {
  return [...protocols.keys()];
}
