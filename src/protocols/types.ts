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
  /** TCP only: send bytes to the upstream (PandA's capture handshake) */
  write?(data: Buffer | string): Promise<void>;
}

export interface SourceContext {
  stream: string;
  logger: Logger;
  /** count and log an upstream message that cannot be used; the scan goes on */
  bad(reason: string): void;
}

export interface UpstreamProtocol<Parsed = unknown> {
  /** name used in configs and on the CLI, e.g. `stins` */
  name: string;
  /** StreamData.typ of what the ingester forwards, e.g. `STINS` */
  typ: string;
  transport: Transport;
  /**
   * One scan of one stream: drop messages until the protocol's start message, yield it, yield one
   * StreamData per data event, yield the end message and return. The runtime discards whatever
   * arrives afterwards until the next scan. Unusable messages go to `ctx.bad` and are skipped.
   */
  scan(reader: MessageReader, ctx: SourceContext): AsyncGenerator<StreamData>;
  /** Turns forwarded StreamData into typed objects; throws a clear Error on malformed input. */
  parse(data: StreamData): Parsed;
}
