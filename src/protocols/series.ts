/**
 * The scan loop every upstream shares (protocols.md §1.2): drop messages until the start message,
 * forward it, forward data, forward the end message and return. A message that cannot be used is
 * counted through `ctx.bad` before the start, and yielded as a `bad` item after it, with its frame
 * number when its header still tells it, so that it keeps its place.
 */
import type { MessageReader, SourceContext, UpstreamItem } from './types.js';

export type MessageRole = 'start' | 'data' | 'end' | 'ignore';

/** one event a data message becomes, and its frame number if the protocol numbers frames */
export interface ExpandedEvent {
  frames: Buffer[];
  frame?: number;
}

/** `Message`: what a protocol reads from a message's frames, handed on to `role` and `expand` */
export interface SeriesRules<Message> {
  typ: string;
  /** protocol name used in messages, e.g. `STINS` */
  label: string;
  /** the message the frames carry; throws an Error naming the problem when it is invalid */
  read(frames: Buffer[]): Message;
  role(message: Message): MessageRole;
  /** a data message's frame number (0-based), for protocols that number their frames */
  frameNumber?(message: Message): number | undefined;
  /** the frame number of a message `read` refused, when its header still tells it */
  frameOfRejected?(frames: Buffer[]): number | undefined;
  /** whether a message `read` refused is still recognisably a data message (a point of the scan) */
  isRejectedPoint?(frames: Buffer[]): boolean;
  /**
   * What one data message becomes: usually itself; several events (PCAP chunks split into rows)
   * or one event made of several messages (legacy Xspress3 reads the next two) are possible.
   */
  expand?(frames: Buffer[], message: Message, reader: MessageReader, ctx: SourceContext): Promise<ExpandedEvent[]> | ExpandedEvent[];
}

export async function* scanSeries<Message>(rules: SeriesRules<Message>, reader: MessageReader, ctx: SourceContext): AsyncGenerator<UpstreamItem> {
  // a resumed scan takes data at once: its start message went to the ingester before this one
  let started = false;
  let inSeries = ctx.resume ?? false;
  for (let frames = await reader.next(); frames !== undefined; frames = await reader.next()) {
    let message: Message;
    try {
      message = rules.read(frames);
    } catch (error) {
      const reason = (error as Error).message;
      if (!inSeries) (ctx.skipped ?? ctx.bad)(`before the start message: ${reason}`);
      else yield { kind: 'bad', reason, frame: rules.frameOfRejected?.(frames), point: rules.isRejectedPoint?.(frames) };
      continue;
    }
    const role = rules.role(message);
    if (role === 'ignore') continue;
    if (!started && role === 'start') {
      started = inSeries = true;
      yield { kind: 'start', data: { typ: rules.typ, frames } };
      continue;
    }
    if (!inSeries) {
      (ctx.skipped ?? ctx.bad)(`${rules.label} ${role} message before the start message`);
      continue;
    }
    started = true;
    if (role === 'start') {
      ctx.logger.warn(`stream ${ctx.stream}: skipped a second ${rules.label} start message inside a series`);
      continue;
    }
    if (role === 'end') {
      yield { kind: 'end', data: { typ: rules.typ, frames } };
      return;
    }
    const frame = rules.frameNumber?.(message);
    if (!rules.expand) {
      yield { kind: 'data', data: { typ: rules.typ, frames }, frame };
      continue;
    }
    let events: ExpandedEvent[];
    try {
      events = await rules.expand(frames, message, reader, ctx);
    } catch (error) {
      yield { kind: 'bad', reason: (error as Error).message, frame, point: true };
      continue;
    }
    for (const event of events) yield { kind: 'data', data: { typ: rules.typ, frames: event.frames }, frame: event.frame ?? frame };
  }
}
