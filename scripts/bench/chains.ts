/**
 * The chains a bench row times, each with its own detector processes: a raw zeromq chain
 * (raw-chain.ts) and the real pipeline (pipeline.ts). A run is timed from the first message its
 * detectors send, once every process of the chain said it is ready, to its reducer's last result,
 * and measures the CPU of every process of the chain over the same run.
 */
import { fileURLToPath } from 'node:url';
import { benchChild, startRawChain, type BenchChild, type RawChain, type RawMode } from './raw-chain.js';
import { BenchPipeline, type BenchRedis, type PipelineSpec } from './pipeline.js';
import { CpuMeter } from './proc.js';
import { fmt, spread } from './table.js';

const SENDER = fileURLToPath(new URL('./sender.ts', import.meta.url));

/** The detector process: one per stream, so sending never competes with a chain's own processes. */
export class Sender {
  private constructor(private readonly child: BenchChild, readonly endpoint: string) {}

  static async start(): Promise<Sender> {
    const child = benchChild(SENDER, ['sender']);
    return new Sender(child, await child.line('endpoint'));
  }

  /** sends header, `events` images and the end message; resolves with the time of the first send */
  async send(kind: Workload['kind'], payload: number, events: number, rate = 0): Promise<number> {
    const sent = this.child.line('sent');
    this.child.proc.stdin!.write(`send ${kind} ${payload} ${events} ${rate}\n`);
    return Number(await sent);
  }

  close(): void {
    this.child.proc.kill();
  }
}

/** one timed run of a chain: events (start and end included), CPU µs per event of each part, latencies (ms) */
export interface Run { seconds: number; events: number; cpu: Record<string, number>; latencies: number[] }

export function perEvent(cpu: Record<string, number>, events: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cpu).map(([part, seconds]) => [part, (seconds / events) * 1e6]));
}

/** CPU per event per part, median over runs, as `ing 10 · wrk 8+8 · red 5 = 31`, with its ratio to `against` */
export function cpuText(runs: Run[], against?: number): { text: string; total: number } {
  const median = (part: string) => spread(runs.map((r) => r.cpu[part]!)).median;
  const total = spread(runs.map((r) => Object.values(r.cpu).reduce((a, b) => a + b, 0))).median;
  const short = (part: string) => part.replace('controller', 'ctl').replace(/^ingester ?/, 'ing ').replace(/^worker.*/, 'wrk').replace('reducer', 'red').trim();
  const groups = new Map<string, string[]>();
  // small figures keep a decimal: a part that costs 0.4 µs per event is not free
  const figure = (us: number) => fmt(us, us < 10 ? 1 : 0);
  for (const part of Object.keys(runs[0]!.cpu)) groups.set(short(part), [...(groups.get(short(part)) ?? []), figure(median(part))]);
  const text = `${[...groups].map(([name, values]) => `${name} ${values.join('+')}`).join(' · ')} = ${figure(total)}`;
  return { text: against ? `${text} (×${fmt(total / against, 2)})` : text, total };
}

export interface Workload {
  /** upstream images: `bytes` uncompressed of `payload` bytes, `bslz4` 512×512 uint32 compressed */
  kind: 'bytes' | 'bslz4';
  payload: number;
  /** images; a chain's map plays whole parts of up to 1000, so this is rounded up to a multiple of 1000 */
  events: number;
  /** images per constraint (i // batch) */
  batch: number;
  /** images per second, 0 as fast as they go */
  rate?: number;
}

/** the pipeline's map plays a part of up to this many events, repeated (as a long scan is announced) */
const PART_EVENTS = 1000;
const partEvents = (w: Workload) => Math.min(PART_EVENTS, w.events);
const images = (w: Workload) => Math.ceil(w.events / partEvents(w)) * partEvents(w);

/** the pipeline's map for a workload: a part of `i // batch` constraints, repeated */
function sequenceBody(streams: string[], w: Workload): unknown {
  const entries = Array.from({ length: partEvents(w) }, (_, i) => [{ constraint: Math.floor(i / w.batch) }]);
  return { parts: { main: Object.fromEntries(streams.map((s) => [s, entries])) }, sequence: [{ part: 'main', repeat: images(w) / partEvents(w) }] };
}

/** a tenth of the workload, run untimed first: every chain is timed warm (compiled, connected, its heap grown) */
export const warmUp = (w: Workload): Workload => ({ ...w, events: Math.max(1, Math.ceil(w.events / 10)) });

/** a raw chain with its detectors, kept for the repeats of a row */
export class RawBench {
  private constructor(readonly chain: RawChain, private readonly senders: Sender[]) {}

  static async start(mode: RawMode, streams: string[], batch: number, nodeArgs?: string[]): Promise<RawBench> {
    const senders = await Promise.all(streams.map(() => Sender.start()));
    const chain = await startRawChain({ mode, upstreams: Object.fromEntries(streams.map((s, i) => [s, senders[i]!.endpoint])), batch, nodeArgs });
    return new RawBench(chain, senders);
  }

  async run(w: Workload): Promise<Run> {
    // every upstream message is an event, as the pipeline's start and end events are
    const events = images(w) + 2;
    const meter = new CpuMeter(this.chain.pids);
    const done = this.chain.reducer.expect(events);
    const started = Math.min(...await Promise.all(this.senders.map((s) => s.send(w.kind, w.payload, images(w), w.rate))));
    const result = await done;
    return { seconds: (result.at - started) / 1000, events, cpu: perEvent(meter.read(), events), latencies: result.latencies };
  }

  close(): void {
    this.chain.close();
    for (const s of this.senders) s.close();
  }
}

/** the real pipeline with a detector per stream */
export class PipelineBench {
  private constructor(readonly pipeline: BenchPipeline, readonly senders: Map<string, Sender>) {}

  /** `streamsByIngester`: the streams of each ingester */
  static async start(redis: BenchRedis, name: string, streamsByIngester: string[][], workers: PipelineSpec['workers'], reducer: string,
    options: Pick<PipelineSpec, 'env' | 'nodeArgs'> = {}): Promise<PipelineBench> {
    const senders = new Map<string, Sender>();
    for (const stream of streamsByIngester.flat()) senders.set(stream, await Sender.start());
    const pipeline = await BenchPipeline.start({
      name: `bench-${name}-${process.pid}`,
      ingesters: streamsByIngester.map((streams, i) => ({ name: `ingester-${i + 1}`, streams: streams.map((s) => ({ name: s, upstream: senders.get(s)!.endpoint })) })),
      workers, reducer: { class: reducer }, ...options,
    }, redis);
    return new PipelineBench(pipeline, senders);
  }

  /**
   * One scan of the workload, timed from the first send to the reducer's last result; the map is
   * the workload's (`i // batch`), or the announcement given, whose events are then `w.events`.
   */
  async run(w: Workload, announcement?: { path: string; body: unknown }): Promise<Run & { scan: string }> {
    const streams = [...this.senders.keys()];
    const { path, body } = announcement ?? { path: '/api/v1/sequence', body: sequenceBody(streams, w) };
    const scan = await this.pipeline.announce(path, body);
    const meter = new CpuMeter(this.pipeline.pids());
    const count = announcement ? w.events : images(w);
    const started = Math.min(...await Promise.all([...this.senders.values()].map((s) => s.send(w.kind, w.payload, count, w.rate))));
    const progress = await this.pipeline.finished();
    const cpu = meter.read();
    if (progress.completed_events !== progress.total_events) {
      throw new Error(`scan ${scan}: ${progress.completed_events} of ${progress.total_events} events completed (${JSON.stringify(progress)})`);
    }
    const publish = await this.pipeline.publish<{ latencies?: number[]; lastAt: number }>();
    return { scan, seconds: (publish.lastAt - started) / 1000, events: progress.total_events, cpu: perEvent(cpu, progress.total_events), latencies: publish.latencies ?? [] };
  }

  async stop(): Promise<void> {
    await this.pipeline.stop();
    for (const s of this.senders.values()) s.close();
  }
}
