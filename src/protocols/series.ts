/**
 * The scan loop every upstream shares (protocols.md §1.2): drop messages until the start message,
 * forward it, forward data, forward the end message and return. A message that cannot be used is
 * counted through `ctx.bad` before the start, and yielded as a `bad` item after it, with its frame
 * number when its header still tells it, so that it keeps its place.
 */
import type { MessageReader, SourceContext, UpstreamItem, UpstreamItems } from './types.js';

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
   * Checks a data message that is one event as it is (no `expand`); throws an Error naming the
   * problem, and the message is then a broken frame in its place.
   */
  check?(frames: Buffer[], message: Message): void;
  /**
   * What one data message becomes: usually itself; several events (PCAP chunks split into rows)
   * or one event made of several messages (legacy Xspress3 reads the next two) are possible.
   */
  expand?(frames: Buffer[], message: Message, reader: MessageReader, ctx: SourceContext): Promise<ExpandedEvent[]> | ExpandedEvent[];
}

export function scanSeries<Message>(rules: SeriesRules<Message>, reader: MessageReader, ctx: SourceContext): UpstreamItems {
  return new SeriesScan(rules, reader, ctx);
}

/**
 * The scan as an iterator rather than an async generator: each message is turned into items
 * synchronously, so messages already received become items without an await each (`ready`), and
 * only an empty upstream, or an `expand` that reads further messages, waits.
 */
class SeriesScan<Message> implements UpstreamItems {
  private started = false;
  private inSeries: boolean;
  /** items made from the last message and not taken yet (`expand` may make several); reused */
  private readonly made: UpstreamItem[] = [];
  private taken = 0;
  /** an `expand` that waits (reads the message's follow-ups); nothing else is read meanwhile */
  private expanding?: Promise<void>;
  /** the end message was read or the upstream closed: nothing more is read */
  private over = false;

  constructor(private readonly rules: SeriesRules<Message>, private readonly reader: MessageReader, private readonly ctx: SourceContext) {
    // a resumed scan takes data at once: its start message went to the ingester before this one
    this.inSeries = ctx.resume ?? false;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  ready(): UpstreamItem | undefined {
    while (this.taken === this.made.length && !this.over && !this.expanding) {
      const frames = this.reader.ready?.();
      if (!frames) return undefined;
      this.made.length = this.taken = 0;
      this.read(frames);
    }
    return this.taken < this.made.length ? this.made[this.taken++] : undefined;
  }

  async next(): Promise<IteratorResult<UpstreamItem, undefined>> {
    for (;;) {
      const item = this.ready();
      if (item) return { value: item, done: false };
      if (this.expanding) {
        await this.expanding;
      } else if (this.over) {
        return { value: undefined, done: true };
      } else {
        const frames = await this.reader.next();
        this.made.length = this.taken = 0;
        if (frames === undefined) this.over = true;
        else this.read(frames);
      }
    }
  }

  /** what one message becomes: items in `made`, a report through ctx, or nothing */
  private read(frames: Buffer[]): void {
    const { rules, ctx } = this;
    let message: Message;
    try {
      message = rules.read(frames);
    } catch (error) {
      const reason = (error as Error).message;
      if (!this.inSeries) (ctx.skipped ?? ctx.bad)(`before the start message: ${reason}`);
      else this.made.push({ kind: 'bad', reason, frame: rules.frameOfRejected?.(frames), point: rules.isRejectedPoint?.(frames) });
      return;
    }
    const role = rules.role(message);
    if (role === 'ignore') return;
    if (!this.started && role === 'start') {
      this.started = this.inSeries = true;
      this.made.push({ kind: 'start', data: { typ: rules.typ, frames } });
      return;
    }
    if (!this.inSeries) {
      (ctx.skipped ?? ctx.bad)(`${rules.label} ${role} message before the start message`);
      return;
    }
    this.started = true;
    if (role === 'start') {
      ctx.logger.warn(`stream ${ctx.stream}: skipped a second ${rules.label} start message inside a series`);
      return;
    }
    if (role === 'end') {
      this.made.push({ kind: 'end', data: { typ: rules.typ, frames } });
      this.over = true;
      return;
    }
    const frame = rules.frameNumber?.(message);
    if (!rules.expand) {
      try {
        rules.check?.(frames, message);
      } catch (error) {
        this.refused(error, frame);
        return;
      }
      this.made.push({ kind: 'data', data: { typ: rules.typ, frames }, frame });
      return;
    }
    let events: Promise<ExpandedEvent[]> | ExpandedEvent[];
    try {
      events = rules.expand(frames, message, this.reader, ctx);
    } catch (error) {
      this.refused(error, frame);
      return;
    }
    if (!(events instanceof Promise)) {
      this.expanded(events, frame);
      return;
    }
    this.expanding = events
      .then((made) => this.expanded(made, frame), (error: unknown) => this.refused(error, frame))
      .then(() => { this.expanding = undefined; });
  }

  /** a data message that `check` or `expand` refused: a broken frame in its place */
  private refused(error: unknown, frame: number | undefined): void {
    this.made.push({ kind: 'bad', reason: (error as Error).message, frame, point: true });
  }

  private expanded(events: ExpandedEvent[], frame: number | undefined): void {
    for (const event of events) this.made.push({ kind: 'data', data: { typ: this.rules.typ, frames: event.frames }, frame: event.frame ?? frame });
  }
}
