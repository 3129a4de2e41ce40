/** Contrast: the scan software's per-point snapshots, pickled dicts over zmq PUB/SUB. */
import type { UpstreamProtocol } from '../types.js';
import { CONTRAST_TYP, type ContrastMessage } from './messages.js';
import { parseContrast } from './parse.js';
import { scanContrast } from './scan.js';

export const contrast: UpstreamProtocol<ContrastMessage> = {
  name: 'contrast',
  typ: CONTRAST_TYP,
  transport: 'zmq-sub',
  scan: scanContrast,
  parse: parseContrast,
};

export * from './messages.js';
