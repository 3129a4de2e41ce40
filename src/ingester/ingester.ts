/**
 * Ingester: reads its upstreams, pairs each stream's k-th frame with the k-th event in which the
 * trigger map has an entry for that stream, and forwards every frame to the workers the controller
 * assigned, untouched. Frames that cannot be used are counted with their stream and event number.
 */
import { Component, type ComponentOptions } from '../core/component.js';
import type { AssignmentBatch, ScanInfo } from '../core/messages.js';
import type { StreamData } from '../core/types.js';
import { encodeEventBatch, type PartialEvent } from '../core/wire.js';
import { DATA_PLANE_LIMITS, Outbox } from '../core/outbox.js';
import type { UpstreamProtocol } from '../protocols/types.js';
import { connectUpstream, type UpstreamConnection } from './transports/index.js';
import { ZmqSubscription } from './transports/zmq.js';
import { blockingConnection, readStream, type StreamEntry } from '../core/redis.js';
import { AsyncQueue } from '../core/async-queue.js';
import { ScanDumper } from './dumper.js';
import { WorkerRouter } from './router.js';
import { advertisedEndpoint } from '../core/advertise.js';

export interface IngesterStream {
  name: string;
  protocol: UpstreamProtocol;
  upstream: string;
}

export interface IngesterOptions extends ComponentOptions {
  name: string;
  streams: IngesterStream[];
  /** zmq endpoint the workers connect to; port 0 picks a free one */
  bind?: string;
  /** host published for the workers instead of the bound one (a wildcard bind on a host of its own) */
  advertise?: string;
  /** file that receives every forwarded event (tagged dump format), appended across scans */
  dumpPath?: string;
}

interface StreamSource {
  stream: IngesterStream;
  connection: UpstreamConnection;
  frames: AsyncGenerator<StreamData>;
  ended: boolean;
  /** event the next frame belongs to, for error reports */
  nextEvent: number;
}

const REPORT_INTERVAL_MS = 200;

export class Ingester extends Component {
  private readonly router: WorkerRouter;
  private run?: ScanRun;
  private forwarded = 0;
  private forwardedBytes = 0;
  private forwardedReported = 0;
  private bad: [string, number, string][] = [];
  private badTotal = 0;
  private reportTimer?: NodeJS.Timeout;
  private readonly subscriptions = new Map<string, ZmqSubscription>();

  constructor(private readonly opts: IngesterOptions) {
    super('ingester', opts.name, opts);
    if (!opts.streams.length) throw new Error(`ingester ${opts.name} has no streams`);
    this.router = new WorkerRouter(this.logger);
  }

  get url(): string { return advertisedEndpoint(this.router.endpoint, this.opts.advertise); }

  override async start(): Promise<void> {
    await this.router.bind(this.opts.bind ?? 'tcp://127.0.0.1:0');
    this.logger.info(`ingester ${this.name} serves streams ${this.opts.streams.map((s) => s.name).join(', ')} at ${this.url}`);
    this.reportTimer = setInterval(() => { this.sendCounters().catch(() => undefined); }, REPORT_INTERVAL_MS);
    await super.start();
  }

  override async stop(): Promise<void> {
    clearInterval(this.reportTimer);
    await this.run?.cancel();
    await super.stop();
    this.router.close();
    for (const subscription of this.subscriptions.values()) subscription.close();
  }

  protected extraState(): Record<string, unknown> {
    return {
      url: this.url, streams: this.opts.streams.map((s) => s.name),
      connected_workers: Object.fromEntries(this.router.connectedWorkers().map((w) => [w, { name: w }])),
      // undeliverable frames, and SUB messages that found a scan's queue full
      bad_frames: this.badTotal, dropped_frames: this.router.dropped + [...this.subscriptions.values()].reduce((n, s) => n + s.dropped, 0),
    };
  }

  /** protocol messages that cannot be used, and frames that could not be delivered */
  recordBad(stream: string, event: number, reason: string): void {
    this.bad.push([stream, event, reason]);
    this.badTotal += 1;
    this.logger.warn(`stream ${stream} event ${event}: ${reason}`);
  }

  private async sendCounters(scan = this.scan?.scan): Promise<void> {
    if (!scan || (!this.bad.length && this.forwarded === this.forwardedReported)) return;
    const bad = this.bad.splice(0);
    this.forwardedReported = this.forwarded;
    await this.report({ kind: 'ingested', ingester: this.field, forwarded: this.forwarded, bytes: this.forwardedBytes, bad }, scan);
  }

  protected async onScan(scan: ScanInfo): Promise<void> {
    await this.run?.cancel();
    this.forwarded = this.forwardedReported = this.forwardedBytes = 0;
    const mine = this.opts.streams.filter((s) => scan.streams.includes(s.name));
    const dumpPath = this.opts.dumpPath ?? this.dumpPrefixPath(scan.scan);
    this.run = new ScanRun(this, scan, mine, dumpPath ? new ScanDumper(dumpPath, this.logger) : undefined);
    this.run.done.catch((e) => this.logger.error(`scan ${scan.scan} stopped: ${e?.stack ?? e}`));
  }

  protected async onFinish(scan: string): Promise<void> {
    await this.run?.cancel();
    await this.sendCounters(scan);
    await this.report({ kind: 'finished', component: this.field }, scan);
  }

  private dumpPrefixPath(scan: string): string | undefined {
    const prefix = this.parameters.dump_prefix?.data.toString();
    return prefix ? `${prefix}${this.name}-${scan}.cbors` : undefined;
  }

  /** a stream's upstream for one scan; SUB upstreams stay subscribed from their first scan on */
  openUpstream(stream: IngesterStream): UpstreamConnection {
    if (stream.protocol.transport !== 'zmq-sub') return connectUpstream(stream.protocol.transport, stream.upstream);
    let subscription = this.subscriptions.get(stream.name);
    if (!subscription) this.subscriptions.set(stream.name, subscription = new ZmqSubscription(stream.upstream));
    return subscription.attach();
  }

  /** one event forwarded: counted for /api/v1/config and the controller's reports (which size credit by bytes) */
  countForwarded(bytes: number): void {
    this.forwarded += 1;
    this.forwardedBytes += bytes;
    this.processed += 1;
  }

  get workerRouter(): WorkerRouter { return this.router; }
}

/** The work of one scan: assignments in, frames paired and forwarded, until the last event. */
class ScanRun {
  readonly done: Promise<void>;
  private cancelled = false;
  private readonly sources = new Map<string, StreamSource>();
  private readonly assignmentReader;
  private readonly outbox = new Outbox<PartialEvent>((worker, events) => this.sendBatch(worker, events), DATA_PLANE_LIMITS,
    (error) => this.ingester.logger.error(`sending to workers: ${error}`));

  constructor(private readonly ingester: Ingester, private readonly scan: ScanInfo,
    streams: IngesterStream[], private readonly dumper: ScanDumper | undefined) {
    for (const stream of streams) {
      const connection = ingester.openUpstream(stream);
      const source: StreamSource = { stream, connection, ended: false, nextEvent: 0, frames: undefined as never };
      source.frames = stream.protocol.scan(connection.reader, {
        stream: stream.name, logger: ingester.logger,
        bad: (reason) => ingester.recordBad(stream.name, source.nextEvent, reason),
      });
      this.sources.set(stream.name, source);
    }
    this.assignmentReader = new AssignmentReader(ingester, scan.scan);
    this.done = streams.length ? this.forward() : Promise.resolve();
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    this.assignmentReader.stop();
    await Promise.all([...this.sources.values()].map((s) => s.connection.close()));
    await this.done.catch(() => undefined);
    await this.dumper?.close();
  }

  private async nextFrame(source: StreamSource, event: number): Promise<StreamData | undefined> {
    source.nextEvent = event;
    if (source.ended) return undefined;
    let item: IteratorResult<StreamData>;
    try {
      item = await source.frames.next();
    } catch (error) {
      // an upstream that fails for good: the scan goes on without this stream
      source.ended = true;
      if (!this.cancelled) this.ingester.recordBad(source.stream.name, event, `upstream failed: ${(error as Error).message}`);
      return undefined;
    }
    if (item.done) {
      source.ended = true;
      if (!this.cancelled) this.ingester.recordBad(source.stream.name, event, 'upstream ended before the trigger map did');
      return undefined;
    }
    return item.value;
  }

  private async forward(): Promise<void> {
    let event = 0;
    while (!this.cancelled && event < this.scan.totalEvents) {
      const batch: AssignmentBatch | undefined = await this.assignmentReader.next();
      if (!batch) break;
      for (let i = 0; i < batch.a.length && !this.cancelled; i++) {
        event = batch.first + i;
        const assignment = batch.a[i];
        const frames: Record<string, StreamData> = {};
        for (const [name, source] of this.sources) {
          if (!(name in assignment)) continue;                   // null entry: no frame for this event
          const data = await this.nextFrame(source, event);
          if (data) frames[name] = data;
        }
        if (this.cancelled) break;
        if (this.dumper && Object.keys(frames).length) this.dumper.write(event, frames);
        const { bytes, flushing } = this.queueForWorkers(event, assignment, frames);
        this.ingester.countForwarded(bytes);
        if (flushing) await flushing;
        event += 1;
      }
    }
    await this.outbox.flush();
    await this.dumper?.close();
  }

  /**
   * Queues the event's frames for each worker that gets any, with the streams it must wait for when
   * other ingesters send the rest; `flushing` when a batch must leave first.
   */
  private queueForWorkers(event: number, assignment: Record<string, readonly string[]>,
    frames: Record<string, StreamData>): { bytes: number; flushing?: Promise<void> } {
    const perWorker = new Map<string, { partial: PartialEvent; expected: string[]; bytes: number }>();
    let bytes = 0;
    for (const [name, workers] of Object.entries(assignment)) {
      const data = frames[name];
      let size = 0;
      for (const frame of data?.frames ?? []) size += frame.length;
      bytes += size;
      for (const worker of workers) {
        let entry = perWorker.get(worker);
        if (!entry) perWorker.set(worker, entry = { partial: { event, streams: {} }, expected: [], bytes: 0 });
        entry.expected.push(name);
        if (!data) continue;
        entry.partial.streams[name] = data;
        entry.bytes += size;
      }
    }
    let flushing: Promise<void> | undefined;
    for (const [worker, { partial, expected, bytes: size }] of perWorker) {
      const carried = Object.keys(partial.streams).length;
      if (!carried) continue;                                   // nothing from this ingester for that worker
      if (expected.length > carried) partial.expect = expected;
      flushing = this.outbox.add(worker, partial, size) ?? flushing;
    }
    return { bytes, flushing };
  }

  private async sendBatch(worker: string, events: PartialEvent[]): Promise<void> {
    if (await this.ingester.workerRouter.send(worker, encodeEventBatch(this.scan.scan, events))) return;
    for (const { event, streams } of events) {
      this.ingester.recordBad(Object.keys(streams).join(','), event, `worker ${worker} is not connected; frame dropped`);
    }
  }
}

/** Reads the scan's assignment stream ahead of the forwarding loop, so Redis latency overlaps work. */
class AssignmentReader {
  private readonly queue = new AsyncQueue<AssignmentBatch>();
  private stopped = false;
  private readonly connection;

  constructor(private readonly ingester: Ingester, private readonly scan: string) {
    this.connection = blockingConnection(ingester.redis);
    this.loop().catch((e) => { if (!this.stopped) ingester.logger.error(`assignment reader: ${e}`); });
  }

  stop(): void {
    this.stopped = true;
    this.connection.disconnect();
    this.queue.close();
  }

  next(): Promise<AssignmentBatch | undefined> {
    return this.queue.next();
  }

  private async loop(): Promise<void> {
    let last = '0';
    const key = this.ingester.keys.assignments(this.scan);
    try {
      while (!this.stopped) {
        let entries: StreamEntry[];
        try {
          entries = await readStream(this.connection, key, last, { blockMs: 1000, count: 100 });
        } catch (error) {
          if (this.stopped) return;
          this.ingester.logger.warn(`reading assignments failed, retrying: ${error}`);
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        for (const { id, fields } of entries) {
          last = id;
          this.queue.push(JSON.parse(fields[1]) as AssignmentBatch);
        }
      }
    } finally {
      // the forwarding loop must not wait for assignments that can no longer come
      this.queue.end();
    }
  }
}

