/** Turns a forwarded Sardana StreamData into its packet: DataDescription, RecordData or RecordEnd. */
import type { StreamData } from '../../core/types.js';
import { readSardanaPacket, SARDANA_TYP, SardanaError, type SardanaPacket } from './messages.js';

export function parseSardana(data: StreamData): SardanaPacket {
  if (data.typ !== SARDANA_TYP) throw new SardanaError(`expected StreamData of typ ${SARDANA_TYP}, got ${JSON.stringify(data.typ)}`);
  return readSardanaPacket(data.frames);
}
