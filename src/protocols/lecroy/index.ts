/** LeCroy MAUI oscilloscope: sequences of waveforms per channel over zmq PUB/SUB, one event per sequence. */
import type { UpstreamProtocol } from '../types.js';
import { LECROY_TYP } from './messages.js';
import { parseLecroy, type LecroyPacket } from './parse.js';
import { scanLecroy } from './scan.js';

export const lecroy: UpstreamProtocol<LecroyPacket> = {
  name: 'lecroy',
  typ: LECROY_TYP,
  transport: 'zmq-sub',
  scan: scanLecroy,
  parse: parseLecroy,
};

export * from './messages.js';
export { type LecroyPacket, type LecroySequence } from './parse.js';
