/**
 * One LeCroy acquisition as the ingester sees it (protocols.md §2.8): messages are grouped into
 * events. Event 0 is PREPARE, forwarded once the next message has turned out to be SEQ START.
 * Every sequence is one event `[seqstart, (json, waveforms, times) × channels, seqend]`; in
 * continuous mode the scope sends SEQ START only once, so its first one heads every sequence.
 * STOP alone is the last event. A sequence that lacks a channel's traces is dropped and counted, and
 * keeps its place (LeCroy messages carry no trigger number).
 */
import type { MessageReader, SourceContext, UpstreamItem } from '../types.js';
import { LECROY_TYP, readLecroyMessage, type LecroyMessage, type LecroySeqStart } from './messages.js';

/** the frames of a sequence being collected */
interface OpenSequence {
  frames: Buffer[];
  start: LecroySeqStart;
  channels: number[];
}

const data = (frames: Buffer[]) => ({ typ: LECROY_TYP, frames });

function sequenceName(sequence: OpenSequence): string {
  return `LeCroy sequence ${sequence.start.seqno}`;
}

/** why a sequence cannot be forwarded, or undefined when it has one traces message per channel */
function incomplete(sequence: OpenSequence): string | undefined {
  const expected = sequence.start.channels;
  const got = sequence.channels;
  if (got.length === expected.length && expected.every((c) => got.includes(c))) return undefined;
  return `${sequenceName(sequence)} has traces of channels [${got.join(', ')}], expected [${expected.join(', ')}]`;
}

export async function* scanLecroy(reader: MessageReader, ctx: SourceContext): AsyncGenerator<UpstreamItem> {
  let prepare: Buffer[] | undefined;
  /** the first SEQ START: set once the acquisition has started */
  let first: { frame: Buffer; start: LecroySeqStart } | undefined;
  let open: OpenSequence | undefined;
  for (let frames = await reader.next(); frames !== undefined; frames = await reader.next()) {
    let message: LecroyMessage;
    try {
      message = readLecroyMessage(frames);
    } catch (error) {
      if (first) yield { kind: 'bad', reason: (error as Error).message };
      else (ctx.skipped ?? ctx.bad)(`before the start message: ${(error as Error).message}`);
      continue;
    }
    if (!first) {
      if (message.kind === 'prepare') {
        prepare = frames;
      } else if (message.kind === 'seqstart' && prepare) {
        first = { frame: frames[0], start: message.message };
        open = { frames: [first.frame], start: first.start, channels: [] };
        yield { kind: 'start', data: data(prepare) };
      } else {
        (ctx.skipped ?? ctx.bad)(`LeCroy ${message.kind} message before the start message (PREPARE followed by SEQ START)`);
        prepare = undefined;
      }
      continue;
    }
    switch (message.kind) {
      case 'seqstart':
        if (open?.channels.length) yield { kind: 'bad', reason: `${sequenceName(open)} dropped: SEQ START ${message.message.seqno} arrived before its SEQ END`, point: true };
        open = { frames: [frames[0]], start: message.message, channels: [] };
        break;
      case 'traces':
        if (!open && first.start.ntriggers === -1) open = { frames: [first.frame], start: first.start, channels: [] };
        if (!open) {
          ctx.bad(`LeCroy traces of channel ${message.message.ch} outside a sequence (no SEQ START)`);
          break;
        }
        open.frames.push(...frames);
        open.channels.push(message.message.ch);
        break;
      case 'seqend': {
        const sequence = open;
        open = undefined;
        if (!sequence) {
          ctx.bad('LeCroy SEQ END without a sequence');
          break;
        }
        const problem = incomplete(sequence);
        if (problem) {
          yield { kind: 'bad', reason: `${problem}; sequence dropped`, point: true };
          break;
        }
        sequence.frames.push(frames[0]);
        yield { kind: 'data', data: data(sequence.frames) };
        break;
      }
      case 'stop':
        if (open?.channels.length) yield { kind: 'bad', reason: `${sequenceName(open)} dropped: STOP arrived before its SEQ END`, point: true };
        yield { kind: 'end', data: data(frames) };
        return;
      case 'prepare':
        ctx.logger.warn(`stream ${ctx.stream}: skipped a second LeCroy PREPARE inside an acquisition`);
        break;
    }
  }
  if (open?.channels.length) ctx.logger.warn(`stream ${ctx.stream}: upstream closed inside ${sequenceName(open)}`);
}
