/**
 * `dranspose demo`: an emulated STINS detector sends 64×64 uint16 images; two workers sum a region
 * of interest; the reducer builds the time series. Progress bar, then a short summary.
 */
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { parseInteger } from './options.js';
import { DEFAULT_CONTROLLER_PORT, DEFAULT_REDUCER_PORT } from '../core/defaults.js';
import { fail } from './lifecycle.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/roi/roi.ts', import.meta.url));

interface DemoOptions { pipeline: string; once?: boolean; frames: number; rate: number; port: number; reducerPort: number; workers: number }

async function waitUntil(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function demo(options: DemoOptions): Promise<void> {
  const [{ showScanProgress }, { parsePipelineConfig }, { TriggerSequence }, { bindZmqPlayer }, { stinsSeries }, { runPipeline }] = await Promise.all([
    import('./scan-progress.js'), import('../core/config.js'), import('../core/mapping/index.js'),
    import('../protocols/player.js'), import('../protocols/stins/emulator.js'), import('./run.js')]);
  const detector = await bindZmqPlayer('zmq-pull', 'tcp://127.0.0.1:0');
  const config = parsePipelineConfig({
    name: options.pipeline,
    controller: { port: options.port },
    ingesters: [{ name: 'detector-ingester', streams: [{ name: 'detector', protocol: 'stins', upstream: detector.endpoint }] }],
    workers: [{ class: `${EXAMPLE}:RoiWorker`, count: options.workers }],
    reducer: { class: `${EXAMPLE}:RoiReducer`, port: options.reducerPort },
    parameters: { roi: '[16, 48, 16, 48]' },
  }, process.cwd(), 'demo');
  const pipeline = await runPipeline(config);
  const { controller } = pipeline.server;
  const stop = async () => { await pipeline.stop(); detector.close(); };
  process.once('SIGINT', () => { stop().finally(() => process.exit(130)); });
  try {
    await waitUntil(() => controller.components.workers.length === options.workers && !!controller.components.reducer
      && controller.components.ingesters.length === 1, 'the ingester, workers and reducer to register', 60_000);
    const progress = showScanProgress(controller);
    await controller.setSequence(TriggerSequence.uniform(['detector'], options.frames));
    const started = Date.now();
    const sending = detector.play(stinsSeries({ frames: options.frames, shape: [64, 64], dtype: 'uint16' }), { rate: options.rate });
    const total = controller.progress().total_events;
    await waitUntil(() => controller.progress().finished, 'the scan to finish', 10 * 60_000);
    progress.stop();
    await sending;
    const seconds = (Date.now() - started) / 1000;
    const summary = await fetch(`http://127.0.0.1:${options.reducerPort}/api/v1/result/$?single=true`).then((r) => r.json()) as { roi_sum: number[]; mean: number };
    const p = controller.progress();
    process.stdout.write([
      `demo: scan ${p.outcome.replaceAll('_', ' ')}: ${p.completed_events} of ${total} events (${options.frames} images + start and end) in ${seconds.toFixed(1)} s, ${(total / seconds).toFixed(0)} events/s`,
      `demo: ROI sum of ${summary.roi_sum.length} images, mean ${summary.mean.toFixed(1)}, first ${summary.roi_sum.slice(0, 5).join(', ')}`,
      `demo: failed events ${p.failed_events}, lost events ${p.lost_events}, missing frames ${p.missing_frames}, bad frames ${p.bad_frames}`,
      `demo: controller http://127.0.0.1:${options.port}/ , results http://127.0.0.1:${options.reducerPort}/api/v1/result/roi_sum`,
      '',
    ].join('\n'));
  } catch (error) {
    await stop();
    throw error;
  }
  if (options.once) {
    await stop();
    process.exit(0);
  }
  process.stdout.write('demo: pipeline keeps running; Ctrl-C to stop\n');
}

export function registerDemoCommand(program: Command): void {
  program.command('demo')
    .description('run a demo pipeline with an emulated STINS detector')
    .option('--once', 'exit when the scan is done')
    .option('--pipeline <name>', 'pipeline name (Redis keys under dranspose:<name>:)', 'demo')
    .option('--frames <n>', 'images to send', parseInteger, 1000)
    .option('--rate <hz>', 'images per second (0 = as fast as possible)', parseInteger, 200)
    .option('--workers <n>', 'workers', parseInteger, 2)
    .option('--port <port>', 'controller HTTP port', parseInteger, DEFAULT_CONTROLLER_PORT)
    .option('--reducer-port <port>', 'reducer HTTP port', parseInteger, DEFAULT_REDUCER_PORT)
    .action((options: DemoOptions) => demo(options).catch(fail));
}
