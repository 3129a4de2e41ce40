/**
 * The stateful PandA position-capture parser: a data line means something only with the fields of
 * its arm cycle's header, so the parser keeps the last header it saw. Keep one parser per worker
 * (the `positioncap` protocol object holds one per process) and let the header events reach every
 * worker — the start event does; a later arm cycle's header needs a `constraint: null` entry.
 */
import type { StreamData } from '../../core/types.js';
import {
  isArmLine, isEndLine, parsePositioncapEnd, parsePositioncapHeader, parsePositioncapValues, POSITIONCAP_TYP, PositioncapError,
  type PositioncapPacket, type PositioncapStart,
} from './messages.js';

export class PositioncapParser {
  private header?: PositioncapStart;

  /** the header of the current arm cycle, once one was parsed */
  get start(): PositioncapStart | undefined {
    return this.header;
  }

  parse(data: StreamData): PositioncapPacket {
    if (data.typ !== POSITIONCAP_TYP) throw new PositioncapError(`expected StreamData of typ ${POSITIONCAP_TYP}, got ${JSON.stringify(data.typ)}`);
    if (data.frames.length !== 1) throw new PositioncapError(`PandA position-capture event has ${data.frames.length} frames, expected 1`);
    return this.parseFrame(data.frames[0]);
  }

  /** one header block, data line or END line */
  parseFrame(frame: Buffer): PositioncapPacket {
    const text = frame.toString('latin1');
    if (isArmLine(frame)) return (this.header = parsePositioncapHeader(text));
    if (isEndLine(frame)) return parsePositioncapEnd(text);
    if (!this.header) {
      throw new PositioncapError('PandA data line before any arm_time header: this parser has not seen its arm cycle\'s header '
        + '(deliver header events to every worker)');
    }
    return parsePositioncapValues(text, this.header.fields);
  }
}
