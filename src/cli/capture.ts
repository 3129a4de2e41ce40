/**
 * `dranspose capture`: records an upstream as a raw capture (`.cbors`, one CBOR array of byte
 * strings per message); `dranspose source` (source.ts) plays one back.
 */
import type { Command } from 'commander';
import { parseInteger } from './options.js';
import { fail } from './lifecycle.js';
import { registerSourceCommand } from './source.js';

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

export function registerCaptureCommands(program: Command): void {
  program.command('capture')
    .description('record an upstream as a raw .cbors capture')
    .requiredOption('--type <protocol>', 'upstream protocol, e.g. stins (an unknown name is answered with the list)')
    .requiredOption('--connect <url>', 'upstream address, e.g. tcp://detector:9999')
    .requiredOption('-o, --output <file>', 'capture file (.cbors, or .cbors.gz for gzip)')
    .option('--count <n>', 'stop after this many messages', parseInteger)
    .action((o: CaptureOptions) => capture(o).catch(fail));

  registerSourceCommand(program);
}
