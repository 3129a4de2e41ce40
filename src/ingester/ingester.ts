/**
 * Ingester: reads its upstreams and forwards every frame, untouched, to the workers the controller
 * assigned its event to (scan-run.ts). Frames that cannot be used are counted with their stream and
 * event number; a restarted ingester resumes a running scan where its predecessor stood.
 */
import { Component, type Adoption, type ComponentOptions } from '../core/component.js';
import type { ScanInfo } from '../core/messages.js';
import { DEFAULT_CREDIT_BYTES, DEFAULT_MAX_DUMP_BYTES, DEFAULT_ZMQ_BIND } from '../core/defaults.js';
import type { UpstreamProtocol } from '../protocols/types.js';
import { connectUpstream, type UpstreamConnection } from './transports/index.js';
import { ZmqSubscription } from './transports/zmq.js';
import { blockingConnection } from '../core/redis.js';
import { collectAfterScan } from '../core/received-memory.js';
import { ScanDumper } from './dumper.js';
import { openableDumpPath } from '../core/dump-path.js';
import { WorkerRouter } from './router.js';
import { ScanRun } from './scan-run.js';
import { StreamFeed } from './stream-feed.js';
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
  /** the only directory the dump_prefix parameter may dump into; none: no prefix dumps */
  dumpDirectory?: string;
  /** bytes one dump file may reach */
  maxDumpBytes?: number;
  /** frames kept for unfinished events may add up to this; then the upstream waits */
  maxRetainedBytes?: number;
}

const REPORT_INTERVAL_MS = 200;

export class Ingester extends Component {
  private readonly router: WorkerRouter;
  private run?: ScanRun;
  /**
   * The last run, stopped, kept until the next one replaces it. The collection after a scan
   * (collectAfterScan) would otherwise find no object of the run's classes alive: V8 then drops
   * their hidden classes, and with them the code it optimised for them, so every scan ran
   * unoptimised until V8 compiled its hot paths again (about 20 TurboFan compiles per scan).
   */
  private stoppedRun?: ScanRun;
  private connections: UpstreamConnection[] = [];
  private forwarded = 0;
  private forwardedBytes = 0;
  private forwardedReported = 0;
  private bad: [string, number, string][] = [];
  private badTotal = 0;
  private skipped: [string, string][] = [];
  private reportTimer?: NodeJS.Timeout;
  /** SUB upstreams, connected from the start: a publisher's first scan must not go to nobody */
  private readonly subscriptions = new Map<string, ZmqSubscription>();

  constructor(private readonly opts: IngesterOptions) {
    super('ingester', opts.name, opts);
    if (!opts.streams.length) throw new Error(`ingester ${opts.name} has no streams`);
    this.router = new WorkerRouter(this.logger, (identity) => this.run?.workerPinged(identity));
  }

  get url(): string { return advertisedEndpoint(this.router.endpoint, this.opts.advertise); }

  override async start(): Promise<void> {
    await this.router.bind(this.opts.bind ?? DEFAULT_ZMQ_BIND);
    for (const stream of this.opts.streams) {
      if (stream.protocol.transport === 'zmq-sub') this.subscriptions.set(stream.name, new ZmqSubscription(stream.upstream));
    }
    this.logger.info(`ingester ${this.name} serves streams ${this.opts.streams.map((s) => s.name).join(', ')} at ${this.url}`);
    this.reportTimer = setInterval(() => { this.sendCounters().catch(() => undefined); }, REPORT_INTERVAL_MS);
    await super.start();
  }

  override async stop(): Promise<void> {
    clearInterval(this.reportTimer);
    await this.endRun();
    await super.stop();
    this.router.close();
    for (const subscription of this.subscriptions.values()) subscription.close();
  }

  protected extraState(): Record<string, unknown> {
    return {
      url: this.url, streams: this.opts.streams.map((s) => s.name),
      connected_workers: Object.fromEntries(this.router.connectedWorkers().map((w) => [w, { name: w.split('/')[0] }])),
      // messages that belong to no event, and SUB messages that found a scan's queue full
      bad_frames: this.badTotal, dropped_frames: [...this.subscriptions.values()].reduce((n, s) => n + s.dropped, 0),
      retained_events: this.run?.retainedEvents ?? 0,
    };
  }

  /** an upstream message that belongs to no event: counted and reported with the event the stream stood at */
  private recordBad(stream: string, event: number, reason: string): void {
    this.bad.push([stream, event, reason]);
    this.badTotal += 1;
    this.logger.warn(`stream ${stream} event ${event}: ${reason}`);
  }

  private async sendCounters(scan = this.scan?.scan): Promise<void> {
    if (!scan || (!this.bad.length && !this.skipped.length && this.forwarded === this.forwardedReported)) return;
    const bad = this.bad.splice(0);
    const skipped = this.skipped.splice(0);
    this.forwardedReported = this.forwarded;
    const positions = this.run?.positions();
    await Promise.all([
      this.report({ kind: 'ingested', ingester: this.field, instance: this.instanceId, forwarded: this.forwarded, bytes: this.forwardedBytes, bad, skipped }, scan),
      positions && this.redis.hset(this.keys.positions(scan), this.field, JSON.stringify(positions)),
    ]);
  }

  protected async onScan(scan: ScanInfo, adoption: Adoption): Promise<void> {
    await this.endRun();
    this.forwarded = this.forwardedReported = this.forwardedBytes = 0;
    const mine = this.opts.streams.filter((s) => scan.streams.includes(s.name));
    const feeds = new Map<string, StreamFeed>();
    const here = (stream: string) => (reason: string) => this.recordBad(stream, this.run?.currentEvent ?? 0, reason);
    for (const stream of mine) {
      const connection = this.openUpstream(stream);
      this.connections.push(connection);
      const items = stream.protocol.scan(connection.reader, {
        stream: stream.name, logger: this.logger, resume: adoption.resume,
        bad: here(stream.name),
        skipped: (reason) => {
          this.skipped.push([stream.name, reason]);
          this.logger.debug(`stream ${stream.name}: ${reason}`);
        },
      });
      feeds.set(stream.name, new StreamFeed(items, {
        bad: here(stream.name),
        warn: (message) => this.logger.warn(`stream ${stream.name}: ${message}`),
      }));
    }
    const resumeFrom = adoption.resume ? await this.predecessorPositions(scan.scan) : undefined;
    if (adoption.resume) this.logger.warn(`joined scan ${scan.scan} while it runs: resuming${resumeFrom ? ` at ${JSON.stringify(resumeFrom)}` : ''}`);
    const dumpPath = this.opts.dumpPath ?? this.dumpPrefixPath(scan.scan);
    this.run = new ScanRun({
      logger: this.logger,
      send: (identity, message) => this.router.send(identity, message),
      forwarded: (bytes) => {
        this.forwarded += 1;
        this.forwardedBytes += bytes;
        this.processed += 1;
        // the controller sizes credit from the first events' bytes: tell it at once
        if (this.forwarded === 1) void this.sendCounters().catch(() => undefined);
      },
    }, {
      scan, feeds, resumeFrom,
      assignments: { connection: blockingConnection(this.redis), key: this.keys.assignments(scan.scan) },
      dumper: dumpPath ? new ScanDumper(dumpPath, { maxBytes: this.opts.maxDumpBytes ?? DEFAULT_MAX_DUMP_BYTES, onProblem: (m) => this.dumpProblem(m) }) : undefined,
      maxRetainedBytes: this.opts.maxRetainedBytes ?? 2 * DEFAULT_CREDIT_BYTES,
    });
    this.run.done.catch((e) => this.logger.error(`scan ${scan.scan} stopped: ${e?.stack ?? e}`));
  }

  protected async onFinish(scan: string): Promise<void> {
    await this.endRun();
    await this.sendCounters(scan);
    await this.report({ kind: 'finished', component: this.field, instance: this.instanceId }, scan);
    collectAfterScan();
  }

  private async endRun(): Promise<void> {
    const run = this.run;
    this.run = undefined;
    this.stoppedRun = run ?? this.stoppedRun;
    const connections = this.connections.splice(0);
    await Promise.all(connections.map((c) => c.close()));
    await run?.cancel();
  }

  /** where the ingester before this one left the scan's streams, if it said */
  private async predecessorPositions(scan: string): Promise<Record<string, number> | undefined> {
    const raw = await this.redis.hget(this.keys.positions(scan), this.field);
    if (!raw) return undefined;
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).filter(([, v]) => Number.isSafeInteger(v)) as [string, number][]);
    } catch {
      return undefined;
    }
  }

  private dumpPrefixPath(scan: string): string | undefined {
    const prefix = this.parameters.dump_prefix?.data.toString();
    if (!prefix) return undefined;
    try {
      return openableDumpPath(this.opts.dumpDirectory, prefix, `${this.name}-${scan}.cbors`);
    } catch (error) {
      this.dumpProblem(`scan ${scan} is not dumped: ${(error as Error).message}`);
      return undefined;
    }
  }

  private dumpProblem(message: string): void {
    this.errors += 1;
    this.logger.error(message);
  }

  /** a stream's upstream for one scan; SUB upstreams stay subscribed for the ingester's life */
  private openUpstream(stream: IngesterStream): UpstreamConnection {
    const subscription = this.subscriptions.get(stream.name);
    return subscription ? subscription.attach() : connectUpstream(stream.protocol.transport, stream.upstream);
  }
}
