/**
 * One scan of a PandA position-capture connection (protocols.md §2.6). The ingester asks for
 * ASCII capture (`\n`, expecting `OK\n`), then forwards every arm cycle it sees: the header block
 * as one frame, each data line, and the END line. A scan may hold several arm cycles (each header
 * and END is an event of the trigger map); it ends when the trigger map has its events or the
 * PandA closes the connection. Lines that do not fit their header are counted and keep their place
 * (PandA lines carry no number). The first header is the start message; every other frame is data.
 */
import type { MessageReader, SourceContext, UpstreamItem } from '../types.js';
import { isArmLine, isBlankLine, isEndLine, POSITIONCAP_TYP } from './messages.js';
import { PositioncapParser } from './parse.js';

const OK = Buffer.from('OK\n');

const data = (frame: Buffer) => ({ typ: POSITIONCAP_TYP, frames: [frame] });

/**
 * Asks a live PandA for ASCII capture with the default fields (an empty line). Resolves to true
 * once it answers `OK\n`, to any other reply (a refusal), or to undefined if it closed first.
 * A replayed capture (a reader that cannot write) has no PandA to ask: its lines start after the
 * handshake.
 */
export async function requestAsciiCapture(reader: MessageReader): Promise<true | Buffer | undefined> {
  if (!reader.write) return true;
  await reader.write('\n');
  const reply = (await reader.next())?.[0];
  return reply?.equals(OK) ? true : reply;
}

export async function* scanPositioncap(reader: MessageReader, ctx: SourceContext): AsyncGenerator<UpstreamItem> {
  const nextLine = async (): Promise<Buffer | undefined> => (await reader.next())?.[0];
  const reply = await requestAsciiCapture(reader);
  if (reply !== true) {
    if (reply) ctx.bad(`PandA answered ${JSON.stringify(reply.toString('latin1'))} to the capture request, expected "OK\\n"`);
    return;
  }
  const checker = new PositioncapParser();
  let cycles = 0;
  for (;;) {
    let skipped = 0;
    let line = await nextLine();
    for (; line !== undefined && !isArmLine(line); line = await nextLine()) skipped += 1;
    if (skipped) (cycles ? ctx.bad : (ctx.skipped ?? ctx.bad))(`skipped ${skipped} PandA line${skipped === 1 ? '' : 's'} before the arm_time header`);
    if (line === undefined) return;
    const block = [line];
    for (line = await nextLine(); line !== undefined; line = await nextLine()) {
      block.push(line);
      if (isBlankLine(line)) break;
    }
    if (line === undefined) {
      ctx.logger.warn(`stream ${ctx.stream}: PandA closed the connection inside a header`);
      return;
    }
    const header = Buffer.concat(block);
    try {
      checker.parseFrame(header);
    } catch (error) {
      ctx.bad(`${(error as Error).message}; this arm cycle is skipped`);
      continue;
    }
    cycles += 1;
    yield { kind: cycles === 1 && !ctx.resume ? 'start' : 'data', data: data(header) };
    for (;;) {
      line = await nextLine();
      if (line === undefined) {
        ctx.logger.warn(`stream ${ctx.stream}: PandA closed the connection inside arm cycle ${cycles}, before its END line`);
        return;
      }
      try {
        checker.parseFrame(line);
      } catch (error) {
        yield { kind: 'bad', reason: (error as Error).message, point: true };
        continue;
      }
      yield { kind: 'data', data: data(line) };
      if (isEndLine(line)) break;
    }
  }
}
