/** Opens the upstream of one stream with the transport its protocol uses. */
import type { MessageReader, Transport } from '../../protocols/types.js';
import { connectZmq } from './zmq.js';
import { connectTcp } from './tcp.js';
import { connectHttp } from './http.js';

export interface UpstreamConnection {
  reader: MessageReader;
  close(): Promise<void>;
}

export function connectUpstream(transport: Transport, url: string): UpstreamConnection {
  switch (transport) {
    case 'zmq-pull':
    case 'zmq-sub':
      return connectZmq(transport, url);
    case 'tcp': return connectTcp(url);
    case 'http': return connectHttp(url);
  }
}
