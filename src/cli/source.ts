/**
 * `dranspose source`: plays a detector for a live pipeline, with the socket its protocol uses (PUSH,
 * PUB, a PandA TCP capture port, Sardana's HTTP posts): a raw capture, one stream of an ingester
 * dump, or the protocol's emulator.
 */
import type { Command } from 'commander';
import type { UpstreamProtocol } from '../protocols/types.js';
import { parseInteger } from './options.js';
import { fail } from './lifecycle.js';
// both only name what they load when asked, so the CLI starts no slower for their help text
import { describeEmulators, emulatedScan } from '../protocols/emulate.js';
import { loadProtocol, protocolNames } from '../protocols/index.js';

interface SourceOptions {
  file?: string;
  emulate?: string;
  bind: string;
  type?: string;
  stream?: string;
  rate: number;
  warmup: number;
  frames: number;
  shape?: number[];
}

/** what to play: the upstream's messages, as a raw capture holds them */
interface Upstream {
  protocol: UpstreamProtocol;
  messages: AsyncIterable<Buffer[]> | Iterable<Buffer[]>;
  /** for the log line, e.g. `capture.cbors` */
  origin: string;
}

/** messages a protocol is told from, and a dump's stream is checked on */
const SAMPLE_MESSAGES = 50;

async function emulatedUpstream(o: SourceOptions & { emulate: string }): Promise<Upstream> {
  const protocol = await loadProtocol(o.emulate);
  const messages = await emulatedScan(o.emulate, { frames: o.frames, shape: o.shape });
  return { protocol, messages, origin: `the ${o.emulate} emulator` };
}

async function rawCaptureUpstream(o: SourceOptions & { file: string }): Promise<Upstream> {
  const [{ readRawCapture }, { detectProtocol }] = await Promise.all([import('../core/capture/index.js'), import('../protocols/detect.js')]);
  let protocol: UpstreamProtocol;
  if (o.type) {
    protocol = await loadProtocol(o.type);
  } else {
    const first: Buffer[][] = [];
    for await (const message of readRawCapture(o.file)) if (first.push(message) === SAMPLE_MESSAGES) break;
    protocol = await detectProtocol(first, ['zmq-pull', 'zmq-sub', 'tcp', 'http']);
  }
  return { protocol, messages: readRawCapture(o.file), origin: o.file };
}

/**
 * One stream of an ingester dump, its events' frames played as upstream messages. That gives back
 * the upstream only where the ingester forwarded each message as it came; a protocol whose ingester
 * regroups messages (PCAP rows, LeCroy sequences, Sardana posts) is refused, which the protocol's own
 * scan tells: over the first messages it must forward exactly the dumped frames.
 */
async function dumpUpstream(o: SourceOptions & { file: string }): Promise<Upstream> {
  const [{ readDump }, { createLogger }, { pandaLines }, { streamDataOf }] = await Promise.all([
    import('../core/capture/index.js'), import('../core/logging.js'), import('../protocols/positioncap/messages.js'), import('../protocols/types.js')]);
  const sample: Record<string, { typ: string; frames: Buffer[][] }> = {};
  for await (const event of readDump(o.file)) {
    for (const [name, data] of Object.entries(event.streams)) (sample[name] ??= { typ: data.typ, frames: [] }).frames.push(data.frames);
    if (Object.entries(sample).some(([name, { frames }]) => (!o.stream || name === o.stream) && frames.length >= SAMPLE_MESSAGES)) break;
  }
  const streams = Object.keys(sample);
  const stream = o.stream ?? (streams.length === 1 ? streams[0] : undefined);
  if (!stream || !sample[stream]) throw new Error(`${o.file} holds streams ${streams.join(', ') || '(none)'}; choose one with --stream`);
  const { typ, frames: checked } = sample[stream];
  let protocol: UpstreamProtocol | undefined;
  if (o.type) protocol = await loadProtocol(o.type);
  for (const name of protocol ? [] : protocolNames()) {
    const candidate = await loadProtocol(name);
    if (candidate.typ === typ) protocol = candidate;
  }
  if (!protocol) throw new Error(`stream ${stream} of ${o.file} has typ ${typ}, which no protocol sends; give it with --type`);

  const asMessages = (frames: Buffer[]): Buffer[][] => (protocol.transport === 'tcp' ? pandaLines(frames[0]).map((line) => [line]) : [frames]);
  const messages = checked.flatMap(asMessages);
  let next = 0;
  const forwarded: Buffer[][] = [];
  const quiet = createLogger('source');
  quiet.level = 'error';
  const context = { stream, logger: quiet, bad: () => undefined };
  for await (const data of streamDataOf(protocol.scan({ next: async () => messages[next++] }, context), context)) forwarded.push(data.frames);
  const same = (a: Buffer[], b: Buffer[]) => a.length === b.length && a.every((frame, i) => frame.equals(b[i]));
  if (!forwarded.length || !forwarded.every((frames, i) => same(frames, checked[i]))) {
    throw new Error(`stream ${stream} of ${o.file}: a ${protocol.name} ingester regroups its upstream's messages, so its dump cannot play as that upstream; play a raw capture (dranspose capture) instead`);
  }
  return {
    protocol,
    origin: `stream ${stream} of ${o.file}`,
    messages: (async function* () {
      for await (const event of readDump(o.file)) {
        const data = event.streams[stream];
        if (data) yield* asMessages(data.frames);
      }
    })(),
  };
}

async function fileUpstream(o: SourceOptions & { file: string }): Promise<Upstream> {
  const { detectCaptureFormat } = await import('../core/capture/index.js');
  if (await detectCaptureFormat(o.file) === 'raw') {
    if (o.stream) throw new Error(`${o.file} is a raw capture of one upstream; --stream is for ingester dumps`);
    return await rawCaptureUpstream(o);
  }
  return await dumpUpstream(o);
}

/** counts what passes, for the progress display */
async function* counted(messages: AsyncIterable<Buffer[]> | Iterable<Buffer[]>, count: (n: number) => void): AsyncGenerator<Buffer[]> {
  let n = 0;
  for await (const message of messages) {
    yield message;
    count(++n);
  }
}

async function play(upstream: Upstream, o: SourceOptions): Promise<number> {
  const [{ bindTcpPlayer, bindZmqPlayer, postHttpMessages }, { startProgress }] = await Promise.all([
    import('../protocols/player.js'), import('./progress.js')]);
  const { protocol, origin } = upstream;
  const progress = startProgress('source', { unit: 'messages' });
  const messages = counted(upstream.messages, (n) => progress.update(n));
  try {
    if (protocol.transport === 'tcp') {
      const player = await bindTcpPlayer(o.bind);
      process.stderr.write(`source: playing ${origin} as ${protocol.name} (TCP capture port) on ${player.endpoint}\n`);
      const lines = (async function* () { for await (const m of messages) yield m[0]; })();
      const sent = await player.play(lines, { rate: o.rate, end: true, clientTimeoutMs: 60_000 });
      await player.close();
      return sent;
    }
    if (protocol.transport === 'http') {
      process.stderr.write(`source: posting ${origin} as ${protocol.name} to ${o.bind}\n`);
      return (await postHttpMessages(o.bind, messages, { rate: o.rate })).length;
    }
    const player = await bindZmqPlayer(protocol.transport, o.bind);
    process.stderr.write(`source: playing ${origin} as ${protocol.name} (${protocol.transport === 'zmq-sub' ? 'PUB' : 'PUSH'}) on ${player.endpoint}\n`);
    const sent = await player.play(messages, { rate: o.rate, warmup: protocol.transport === 'zmq-sub' ? o.warmup : 0 });
    // let the peer drain what is queued before the socket closes
    await new Promise((r) => setTimeout(r, 500));
    player.close();
    return sent;
  } finally {
    progress.stop();
  }
}

async function source(o: SourceOptions): Promise<void> {
  if (!!o.file === !!o.emulate) throw new Error('give either --file FILE or --emulate PROTOCOL');
  const upstream = o.emulate ? await emulatedUpstream({ ...o, emulate: o.emulate }) : await fileUpstream({ ...o, file: o.file! });
  const sent = await play(upstream, o);
  process.stderr.write(`source: sent ${sent} messages\n`);
}

function parseShape(value: string): number[] {
  return value.split(/[,x]/).map((n) => parseInteger(n.trim()));
}

export function registerSourceCommand(program: Command): void {
  program.command('source')
    .description('play a detector for a live pipeline: a raw capture, one stream of an ingester dump, or a protocol\'s emulator')
    .option('--file <file>', 'raw capture or ingester dump (.cbors or .cbors.gz)')
    .option('--emulate <protocol>', `play the protocol's emulator: ${protocolNames().join(', ')}`)
    .option('--type <protocol>', 'upstream protocol of the file; found from it when omitted')
    .option('--stream <name>', 'the stream of an ingester dump to play (when it holds several)')
    .option('--bind <url>', 'address to bind (for an HTTP protocol: the ingester URL to post to)', 'tcp://127.0.0.1:9999')
    .option('--frames <n>', 'emulator: data messages of the scan (images, points, rows, sequences)', parseInteger, 100)
    .option('--shape <a,b>', 'emulator: its shape numbers, which depend on the protocol (below)', parseShape)
    .option('--rate <hz>', 'messages per second (0 = as fast as possible)', parseInteger, 0)
    .option('--warmup <n>', 'zmq PUB only: warm-up messages first, as the original sends', parseInteger, 3)
    .addHelpText('after', `\n--shape for each emulator:\n${describeEmulators().map((line) => `  ${line}`).join('\n')}`)
    .action((o: SourceOptions) => source(o).catch(fail));
}
