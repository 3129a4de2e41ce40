/** Opens the upstream of one stream with the transport its protocol uses. */
import type { MessageReader, Transport } from '../../protocols/types.js';
import { connectZmq } from './zmq.js';

export interface UpstreamConnection {
  reader: MessageReader;
  close(): Promise<void>;
}

export function connectUpstream(transport: Transport, url: string): UpstreamConnection {
  switch (transport) {
    case 'zmq-pull':
    case 'zmq-sub':
      return connectZmq(transport, url);
    default:
      throw new Error(`transport ${transport} is not available yet`);
  }
}
