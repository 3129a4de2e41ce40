/** Turns a forwarded Contrast StreamData into its scan message, numpy arrays as NDArrays. */
import type { StreamData } from '../../core/types.js';
import { CONTRAST_TYP, ContrastError, readContrastMessage, type ContrastMessage } from './messages.js';

export function parseContrast(data: StreamData): ContrastMessage {
  if (data.typ !== CONTRAST_TYP) throw new ContrastError(`expected StreamData of typ ${CONTRAST_TYP}, got ${JSON.stringify(data.typ)}`);
  return readContrastMessage(data.frames);
}
