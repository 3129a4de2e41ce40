/** STINS ("stream1"): MAX IV streaming-receiver 2-D detector frames over zmq PUSH/PULL. */
import type { UpstreamProtocol } from '../types.js';
import { STINS_TYP } from './messages.js';
import { parseStins, type StinsPacket } from './parse.js';
import { scanStins } from './scan.js';

export const stins: UpstreamProtocol<StinsPacket> = {
  name: 'stins',
  typ: STINS_TYP,
  transport: 'zmq-pull',
  scan: scanStins,
  parse: parseStins,
};

export * from './messages.js';
export { type StinsPacket } from './parse.js';
