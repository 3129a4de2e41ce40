/** Xspress3: fluorescence spectra from the Xspress3 Tango device over zmq PUB/SUB, legacy or multipart. */
import type { UpstreamProtocol } from '../types.js';
import { XSPRESS_TYP } from './messages.js';
import { parseXspress, type XspressPacket } from './parse.js';
import { scanXspress } from './scan.js';

export const xspress3: UpstreamProtocol<XspressPacket> = {
  name: 'xspress3',
  typ: XSPRESS_TYP,
  transport: 'zmq-sub',
  scan: scanXspress,
  parse: parseXspress,
};

export * from './messages.js';
export { type XspressPacket } from './parse.js';
