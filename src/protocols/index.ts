/**
 * Every upstream protocol, by the name used in configs and on the command line. A protocol's
 * modules load when it is first asked for, so an ingester carries only the ones it serves.
 */
import type { UpstreamProtocol } from './types.js';

const loaders: Record<string, () => Promise<UpstreamProtocol>> = {
  stins: async () => (await import('./stins/index.js')).stins,
  contrast: async () => (await import('./contrast/index.js')).contrast,
  xspress3: async () => (await import('./xspress3/index.js')).xspress3,
  albaem: async () => (await import('./albaem/index.js')).albaem,
  'eiger-legacy': async () => (await import('./eiger-legacy/index.js')).eigerLegacy,
  lecroy: async () => (await import('./lecroy/index.js')).lecroy,
  pcap: async () => (await import('./pcap/index.js')).pcap,
  positioncap: async () => (await import('./positioncap/index.js')).positioncap,
  sardana: async () => (await import('./sardana/index.js')).sardana,
};

export function protocolNames(): string[] {
  return Object.keys(loaders);
}

export async function loadProtocol(name: string): Promise<UpstreamProtocol> {
  if (!Object.hasOwn(loaders, name)) throw new Error(`unknown protocol ${JSON.stringify(name)} (known: ${protocolNames().join(', ')})`);
  const protocol = await loaders[name]();
  if (protocol.name !== name) throw new Error(`protocol module for ${name} calls itself ${protocol.name}`);
  return protocol;
}
