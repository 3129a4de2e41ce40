/**
 * Which protocol a raw capture speaks: each protocol's scan runs over the capture's first
 * messages; the one that forwards the most of them with the fewest rejects wins.
 */
import { createLogger } from '../core/logging.js';
import { protocolNames, loadProtocol } from './index.js';
import { streamDataOf, type MessageReader, type UpstreamProtocol } from './types.js';

const quiet = createLogger('detect');
quiet.level = 'error';

async function score(protocol: UpstreamProtocol, messages: Buffer[][]): Promise<{ forwarded: number; bad: number }> {
  let index = 0;
  const reader: MessageReader = { next: async () => messages[index++] };
  let bad = 0;
  let forwarded = 0;
  try {
    const ctx = { stream: 'detect', logger: quiet, bad: () => { bad += 1; } };
    for await (const data of streamDataOf(protocol.scan(reader, ctx), ctx)) {
      protocol.parse(data);
      forwarded += 1;
    }
  } catch {
    return { forwarded: 0, bad: Infinity };
  }
  return { forwarded, bad };
}

export async function detectProtocol(messages: Buffer[][], transports: string[]): Promise<UpstreamProtocol> {
  let best: { protocol: UpstreamProtocol; forwarded: number; bad: number } | undefined;
  for (const name of protocolNames()) {
    const protocol = await loadProtocol(name);
    if (!transports.includes(protocol.transport)) continue;
    const { forwarded, bad } = await score(protocol, messages);
    if (forwarded > 0 && (!best || forwarded > best.forwarded || (forwarded === best.forwarded && bad < best.bad))) best = { protocol, forwarded, bad };
  }
  if (!best) throw new Error('cannot tell the protocol of this capture; give it with --type');
  return best.protocol;
}
