/**
 * `dranspose capture`: records an upstream as a raw capture (`.cbors`, one CBOR array of byte
 * strings per message), and `dranspose source`: plays a capture as a live upstream.
 */
import type { Command } from 'commander';
import { parseInteger } from './options.js';
import { fail } from './lifecycle.js';

interface CaptureOptions { type: string; connect: string; output: string; count?: number }

async function capture(o: CaptureOptions): Promise<void> {
  const [{ RawCaptureWriter }, { connectUpstream }, { loadProtocol }, { startProgress }] = await Promise.all([
    import('../core/capture/index.js'), import('../ingester/transports/index.js'), import('../protocols/index.js'), import('./progress.js')]);
  const protocol = await loadProtocol(o.type);
  const upstream = connectUpstream(protocol.transport, o.connect);
  const writer = await RawCaptureWriter.open(o.output);
  let count = 0;
  let stopping = false;
  const stop = () => { stopping = true; void upstream.close(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stderr.write(`capture: recording ${protocol.name} from ${o.connect} to ${o.output} (Ctrl-C to stop)\n`);
  // a PandA capture port sends data only once asked; a reply other than its OK is recorded
  const reply = protocol.transport === 'tcp'
    ? await (await import('../protocols/positioncap/index.js')).requestAsciiCapture(upstream.reader) : true;
  const progress = startProgress('capture', { unit: 'messages', total: o.count });
  let message = reply === true ? await upstream.reader.next() : reply && [reply];
  for (; message && !stopping; message = await upstream.reader.next()) {
    await writer.write(message);
    count += 1;
    progress.update(count);
    if (o.count !== undefined && count >= o.count) break;
  }
  progress.stop();
  await upstream.close();
  await writer.close();
  process.stderr.write(`capture: ${count} messages written to ${o.output}\n`);
}

interface SourceOptions { file: string; bind: string; type?: string; rate: number; warmup: number }

const DETECT_MESSAGES = 50;

async function source(o: SourceOptions): Promise<void> {
  const [{ readCapture }, { loadProtocol }, { bindTcpPlayer, bindZmqPlayer, postHttpMessages }, { detectProtocol }] = await Promise.all([
    import('../core/capture/index.js'), import('../protocols/index.js'), import('../protocols/player.js'), import('../protocols/detect.js')]);
  const first: Buffer[][] = [];
  for await (const item of readCapture(o.file)) {
    if (!Array.isArray(item)) throw new Error(`${o.file} is an ingester dump, not a raw capture; replay it with dranspose replay`);
    first.push(item);
    if (first.length === DETECT_MESSAGES) break;
  }
  const protocol = o.type ? await loadProtocol(o.type) : await detectProtocol(first, ['zmq-pull', 'zmq-sub', 'tcp', 'http']);
  async function* messages(): AsyncGenerator<Buffer[]> {
    for await (const item of readCapture(o.file)) yield item as Buffer[];
  }
  let sent: number;
  if (protocol.transport === 'tcp') {
    const player = await bindTcpPlayer(o.bind);
    process.stderr.write(`source: playing ${o.file} as ${protocol.name} (TCP capture port) on ${player.endpoint}\n`);
    sent = await player.play((async function* () { for await (const m of messages()) yield m[0]; })(), { rate: o.rate, end: true, clientTimeoutMs: 60_000 });
    await player.close();
  } else if (protocol.transport === 'http') {
    process.stderr.write(`source: posting ${o.file} as ${protocol.name} to ${o.bind}\n`);
    sent = (await postHttpMessages(o.bind, messages(), { rate: o.rate })).length;
  } else {
    const player = await bindZmqPlayer(protocol.transport, o.bind);
    process.stderr.write(`source: playing ${o.file} as ${protocol.name} (${protocol.transport === 'zmq-sub' ? 'PUB' : 'PUSH'}) on ${player.endpoint}\n`);
    sent = await player.play(messages(), { rate: o.rate, warmup: protocol.transport === 'zmq-sub' ? o.warmup : 0 });
    // let the peer drain what is queued before the socket closes
    await new Promise((r) => setTimeout(r, 500));
    player.close();
  }
  process.stderr.write(`source: sent ${sent} messages\n`);
}

export function registerCaptureCommands(program: Command): void {
  program.command('capture')
    .description('record an upstream as a raw .cbors capture')
    .requiredOption('--type <protocol>', 'upstream protocol, e.g. stins (an unknown name is answered with the list)')
    .requiredOption('--connect <url>', 'upstream address, e.g. tcp://detector:9999')
    .requiredOption('-o, --output <file>', 'capture file (.cbors, or .cbors.gz for gzip)')
    .option('--count <n>', 'stop after this many messages', parseInteger)
    .action((o: CaptureOptions) => capture(o).catch(fail));

  program.command('source')
    .description('play a raw capture as a live upstream, with the socket type its protocol uses')
    .requiredOption('--file <file>', 'raw capture (.cbors or .cbors.gz)')
    .option('--type <protocol>', 'upstream protocol, e.g. stins; found from the capture when omitted')
    .option('--bind <url>', 'address to bind (for an HTTP protocol: the ingester URL to post to)', 'tcp://127.0.0.1:9999')
    .option('--rate <hz>', 'messages per second (0 = as fast as possible)', parseInteger, 0)
    .option('--warmup <n>', 'zmq PUB only: warm-up messages before the capture, as the original sends', parseInteger, 3)
    .action((o: SourceOptions) => source(o).catch(fail));
}
