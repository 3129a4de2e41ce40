/** The contract between the ingester runtime and one upstream protocol (design.md §2, protocols.md §1.2). */
import type { Logger } from 'winston';
import type { StreamData } from '../core/types.js';

/** How the ingester reaches the upstream; the emulator/`source` side uses the matching peer. */
export type Transport =
  | 'zmq-pull'   // upstream binds PUSH, ingester connects PULL
  | 'zmq-sub'    // upstream binds PUB, ingester connects SUB (subscribes to everything)
  | 'tcp'        // ingester is a TCP client; messages are lines
  | 'http';      // ingester is an HTTP server; messages are [path, body]

/** Raw upstream messages, one at a time: zmq multipart frames, a TCP line, or an HTTP [path, body]. */
export interface MessageReader {
  /** the next message, or undefined once the upstream is closed */
  next(): Promise<Buffer[] | undefined>;
  /**
   * the next message if it has already been received, without waiting; undefined when there is
   * none yet (then `next()` waits for it). Lets a backlog be read in one go instead of one await
   * per message.
   */
  ready?(): Buffer[] | undefined;
  /** TCP only: send bytes to the upstream (PandA's capture handshake) */
  write?(data: Buffer | string): Promise<void>;
}

export interface SourceContext {
  stream: string;
  logger: Logger;
  /** count and log an upstream message that cannot be used and belongs to no event; the scan goes on */
  bad(reason: string): void;
  /**
   * a message that comes before the start message (a publisher's warm-up, the rest of an earlier
   * series): counted apart, as expected noise rather than a fault; `bad` when not given
   */
  skipped?(reason: string): void;
  /**
   * the scan is already running (this ingester restarted mid-scan): data messages are taken without
   * waiting for a start message, which went to the previous ingester
   */
  resume?: boolean;
}

/**
 * What one scan of a stream yields, in upstream order. `frame` is the protocol's own number of a
 * data message (0-based), where it has one: the ingester places the message in the event of that
 * number, so a lost or broken message never shifts the ones after it. A `bad` message cannot be
 * used: with a frame number, or as a `point` (a data message of a protocol without numbers, broken
 * in its content), it takes its place and its event gets the stream as missing, with the reason;
 * otherwise (bytes that are no message of the protocol at all) it is reported and takes no place.
 */
export type UpstreamItem =
  | { kind: 'start' | 'end'; data: StreamData }
  | { kind: 'data'; data: StreamData; frame?: number }
  | { kind: 'bad'; reason: string; frame?: number; point?: boolean };

/** What one scan of a stream yields, in order (`UpstreamProtocol.scan`). */
export interface UpstreamItems extends AsyncIterableIterator<UpstreamItem> {
  /**
   * the next item if it can be made without waiting (from messages already received); undefined
   * when it cannot, then `next()` waits for it
   */
  ready?(): UpstreamItem | undefined;
}

export interface UpstreamProtocol<Parsed = unknown> {
  /** name used in configs and on the CLI, e.g. `stins` */
  name: string;
  /** StreamData.typ of what the ingester forwards, e.g. `STINS` */
  typ: string;
  transport: Transport;
  /**
   * One scan of one stream: drop messages until the protocol's start message, yield it, yield one
   * item per data event, yield the end message and return. The runtime discards whatever arrives
   * afterwards until the next scan. Unusable messages before the start go to `ctx.bad`; after it,
   * they are yielded as `bad` items.
   */
  scan(reader: MessageReader, ctx: SourceContext): UpstreamItems;
  /** Turns forwarded StreamData into typed objects; throws a clear Error on malformed input. */
  parse(data: StreamData): Parsed;
}

/** The data a scan forwards, for readers without a trigger map (replay, detection): bad items go to `ctx.bad`. */
export async function* streamDataOf(items: AsyncIterable<UpstreamItem>, ctx: Pick<SourceContext, 'bad'>): AsyncGenerator<StreamData> {
  for await (const item of items) {
    if (item.kind === 'bad') ctx.bad(item.reason);
    else yield item.data;
  }
}
