/**
 * The scan loop every upstream shares (protocols.md §1.2): drop messages until the start message,
 * forward it, forward data, forward the end message and return. Invalid messages go to `ctx.bad`.
 */
import type { StreamData } from '../core/types.js';
import type { MessageReader, SourceContext } from './types.js';

export type MessageRole = 'start' | 'data' | 'end' | 'ignore';

/** `Message`: what a protocol reads from a message's frames, handed on to `role` and `expand` */
export interface SeriesRules<Message> {
  typ: string;
  /** protocol name used in messages, e.g. `STINS` */
  label: string;
  /** the message the frames carry; throws an Error naming the problem when it is invalid */
  read(frames: Buffer[]): Message;
  role(message: Message): MessageRole;
  /**
   * What one data message becomes: usually itself; several events (PCAP chunks split into rows)
   * or one event made of several messages (legacy Xspress3 reads the next two) are possible.
   */
  expand?(frames: Buffer[], message: Message, reader: MessageReader, ctx: SourceContext): Promise<Buffer[][]> | Buffer[][];
}

export async function* scanSeries<Message>(rules: SeriesRules<Message>, reader: MessageReader, ctx: SourceContext): AsyncGenerator<StreamData> {
  let started = false;
  for (let frames = await reader.next(); frames !== undefined; frames = await reader.next()) {
    let message: Message;
    try {
      message = rules.read(frames);
    } catch (error) {
      ctx.bad(started ? (error as Error).message : `before the start message: ${(error as Error).message}`);
      continue;
    }
    const role = rules.role(message);
    if (role === 'ignore') continue;
    if (!started) {
      if (role !== 'start') {
        ctx.bad(`${rules.label} ${role} message before the start message`);
        continue;
      }
      started = true;
      yield { typ: rules.typ, frames };
      continue;
    }
    if (role === 'start') {
      ctx.logger.warn(`stream ${ctx.stream}: skipped a second ${rules.label} start message inside a series`);
      continue;
    }
    if (role === 'data' && rules.expand) {
      let events: Buffer[][];
      try {
        events = await rules.expand(frames, message, reader, ctx);
      } catch (error) {
        ctx.bad((error as Error).message);
        continue;
      }
      for (const event of events) yield { typ: rules.typ, frames: event };
      continue;
    }
    yield { typ: rules.typ, frames };
    if (role === 'end') return;
  }
}
