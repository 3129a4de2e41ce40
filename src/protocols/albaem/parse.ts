/** Turns a forwarded AlbaEM StreamData into its message (the original has no parser; workers read the JSON). */
import type { StreamData } from '../../core/types.js';
import { ALBAEM_TYP, AlbaemError, readAlbaemMessage, type AlbaemMessage } from './messages.js';

export function parseAlbaem(data: StreamData): AlbaemMessage {
  if (data.typ !== ALBAEM_TYP) throw new AlbaemError(`expected StreamData of typ ${ALBAEM_TYP}, got ${JSON.stringify(data.typ)}`);
  return readAlbaemMessage(data.frames);
}
