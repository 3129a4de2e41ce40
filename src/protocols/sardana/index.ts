/** Sardana scans over HTTP: the ingester serves the POSTs of Sardana's JSON recorder, one event per scan point. */
import type { UpstreamProtocol } from '../types.js';
import { SARDANA_TYP, type SardanaPacket } from './messages.js';
import { parseSardana } from './parse.js';
import { scanSardana } from './scan.js';

export const sardana: UpstreamProtocol<SardanaPacket> = {
  name: 'sardana',
  typ: SARDANA_TYP,
  transport: 'http',
  scan: scanSardana,
  parse: parseSardana,
};

export * from './messages.js';
