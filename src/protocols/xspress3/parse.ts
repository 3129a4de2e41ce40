/** Turns a forwarded Xspress3 StreamData into a typed packet: spectra as an NDArray, meta by counter name. */
import type { StreamData } from '../../core/types.js';
import { ndarrayFromBytes, type NDArray } from '../../core/ndarray.js';
import { checkFrameCount } from '../json-frame.js';
import {
  checkSpectra, readXspressMessage, readXspressMeta, XspressError, XSPRESS_TYP,
  type XspressEnd, type XspressImageHeader, type XspressMeta, type XspressStart,
} from './messages.js';

export type XspressPacket =
  | { kind: 'start'; header: XspressStart }
  | { kind: 'image'; header: XspressImageHeader; /** [channels, bins] */ spectra: NDArray; meta: XspressMeta }
  | { kind: 'end'; header: XspressEnd };

export function parseXspress(data: StreamData): XspressPacket {
  if (data.typ !== XSPRESS_TYP) throw new XspressError(`expected StreamData of typ ${XSPRESS_TYP}, got ${JSON.stringify(data.typ)}`);
  const { frames } = data;
  if (frames.length === 0) throw new XspressError('Xspress3 StreamData has no frames');
  const header = readXspressMessage(frames[0]);
  checkFrameCount(frames, header.htype === 'image' ? 3 : 1, `Xspress3 ${header.htype}`, XspressError);
  switch (header.htype) {
    case 'header': return { kind: 'start', header };
    case 'series_end': return { kind: 'end', header };
    case 'image': {
      const [, spectra, meta] = frames;
      checkSpectra(header, spectra);
      return { kind: 'image', header, spectra: ndarrayFromBytes(spectra, header.type, [...header.shape]), meta: readXspressMeta(header, meta) };
    }
  }
}
