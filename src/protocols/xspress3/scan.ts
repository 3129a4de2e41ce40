/**
 * One Xspress3 series as the ingester sees it (protocols.md §2.3): header, images, series_end.
 * A multipart image is one 3-part message; a legacy image is a JSON message followed by the
 * spectra and the meta as two single-part messages. Either way an image is forwarded as
 * [json, spectra, meta], after checking the spectra's size and that the meta unpickles.
 */
import { checkFrameCount, numberInJsonFrame } from '../json-frame.js';
import { scanSeries, type MessageRole, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext, UpstreamItems } from '../types.js';
import {
  checkSpectra, readXspressMessage, readXspressMeta, XspressError, XSPRESS_TYP, type XspressImageHeader, type XspressMessage,
} from './messages.js';

const ROLES: Record<XspressMessage['htype'], MessageRole> = { header: 'start', image: 'data', series_end: 'end' };

/** A reader that can take back one message, for a legacy image whose follow-up turns out to be a new message. */
class PushbackReader implements MessageReader {
  private held: Buffer[] | undefined;

  constructor(private readonly upstream: MessageReader) {}

  async next(): Promise<Buffer[] | undefined> {
    const held = this.held;
    this.held = undefined;
    return held ?? await this.upstream.next();
  }

  unread(message: Buffer[]): void {
    this.held = message;
  }
}

/** a message that is itself an Xspress3 header, image or end, so it cannot be a legacy image's spectra or meta */
function isXspressJson(message: Buffer[]): boolean {
  if (message[0]?.[0] !== 0x7b) return false; // '{'
  try {
    readXspressMessage(message[0]);
    return true;
  } catch {
    return false;
  }
}

function checkImage(header: XspressImageHeader, spectra: Buffer, meta: Buffer): void {
  checkSpectra(header, spectra);
  readXspressMeta(header, meta);
}

function xspressRules(reader: PushbackReader): SeriesRules<XspressMessage> {
  /** the next single-part message of a legacy image; a new Xspress3 message goes back to the reader */
  async function followUp(part: 'spectra' | 'meta', header: XspressImageHeader): Promise<Buffer> {
    const message = await reader.next();
    if (message === undefined) throw new XspressError(`Xspress3 image ${header.frame}: upstream closed before its ${part} message`);
    if (message.length !== 1 || isXspressJson(message)) {
      reader.unread(message);
      const got = message.length === 1 ? 'an Xspress3 JSON message' : `a ${message.length}-part message`;
      throw new XspressError(`Xspress3 image ${header.frame}: its ${part} message is missing (got ${got} instead)`);
    }
    return message[0];
  }

  return {
    typ: XSPRESS_TYP,
    label: 'Xspress3',
    read(frames) {
      if (frames.length === 0) throw new XspressError('Xspress3 message has no frames');
      const message = readXspressMessage(frames[0]);
      checkFrameCount(frames, message.htype === 'image' ? [1, 3] : 1, `Xspress3 ${message.htype} message`, XspressError);
      return message;
    },
    role: (message) => ROLES[message.htype],
    frameNumber: (message) => (message as XspressImageHeader).frame,
    frameOfRejected: (frames) => numberInJsonFrame(frames, 'frame'),
    async expand(frames, message) {
      const header = message as XspressImageHeader; // only data messages are expanded: images
      if (frames.length === 3) {
        checkImage(header, frames[1], frames[2]);
        return [{ frames }];
      }
      const spectra = await followUp('spectra', header);
      const meta = await followUp('meta', header);
      checkImage(header, spectra, meta);
      return [{ frames: [frames[0], spectra, meta] }];
    },
  };
}

export function scanXspress(reader: MessageReader, ctx: SourceContext): UpstreamItems {
  const pushback = new PushbackReader(reader);
  return scanSeries(xspressRules(pushback), pushback, ctx);
}
