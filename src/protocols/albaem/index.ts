/** AlbaEM: four-channel electrometer currents, one JSON message per acquisition over zmq PUB/SUB. */
import type { UpstreamProtocol } from '../types.js';
import { ALBAEM_TYP, type AlbaemMessage } from './messages.js';
import { parseAlbaem } from './parse.js';
import { scanAlbaem } from './scan.js';

export const albaem: UpstreamProtocol<AlbaemMessage> = {
  name: 'albaem',
  typ: ALBAEM_TYP,
  transport: 'zmq-sub',
  scan: scanAlbaem,
  parse: parseAlbaem,
};

export * from './messages.js';
export { parseJsonExact, stringifyPythonJson } from './json.js';
