/** PandABox position capture on the PandA's TCP data port (ASCII): one event per header block or line. */
import type { UpstreamProtocol } from '../types.js';
import { POSITIONCAP_TYP, type PositioncapPacket } from './messages.js';
import { PositioncapParser } from './parse.js';
import { scanPositioncap } from './scan.js';

/** the parser behind `positioncap.parse`: one per process, which is one per worker */
const processParser = new PositioncapParser();

export const positioncap: UpstreamProtocol<PositioncapPacket> = {
  name: 'positioncap',
  typ: POSITIONCAP_TYP,
  transport: 'tcp',
  scan: scanPositioncap,
  parse: (data) => processParser.parse(data),
};

export * from './messages.js';
export { PositioncapParser } from './parse.js';
export { requestAsciiCapture } from './scan.js';
