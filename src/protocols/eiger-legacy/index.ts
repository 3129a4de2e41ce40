/** Dectris Eiger legacy stream (SIMPLON 1.x `dheader-1.0`): 2-D detector frames over zmq PUSH/PULL. */
import type { UpstreamProtocol } from '../types.js';
import { EIGER_LEGACY_TYP } from './messages.js';
import { parseEigerLegacy, type EigerLegacyPacket } from './parse.js';
import { scanEigerLegacy } from './scan.js';

export const eigerLegacy: UpstreamProtocol<EigerLegacyPacket> = {
  name: 'eiger-legacy',
  typ: EIGER_LEGACY_TYP,
  transport: 'zmq-pull',
  scan: scanEigerLegacy,
  parse: parseEigerLegacy,
};

export * from './messages.js';
export { decodeEigerArray, decodeEigerImage, type EigerLegacyImage, type EigerLegacyPacket } from './parse.js';
