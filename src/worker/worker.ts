/**
 * Worker: connects to every ingester and to the reducer, assembles events, runs the user's
 * `processEvent` on each in order, sends results to the reducer and reports completions in batches
 * (the credit that lets the controller assign more).
 */
import * as zmq from 'zeromq';
import { encode } from 'cbor-x';
import { Component, type ComponentOptions } from '../core/component.js';
import type { ScanInfo, WorkerTimes } from '../core/messages.js';
import { readEnsemble } from '../core/registry.js';
import type { EventData, WorkerClass, WorkerInstance } from '../core/types.js';
import { decodeEventBatch, encodeResultBatch, PING, type PartialEvent } from '../core/wire.js';
import { DATA_PLANE_LIMITS, Outbox } from '../core/outbox.js';
import { SerialDrain } from '../core/serial-drain.js';
import { EventAssembler } from './assembler.js';
import { noteReceived } from '../core/received-memory.js';
import { EncodedResult } from '../core/encoded-result.js';
import { TickClock, tickClockKey } from './tick.js';

export interface WorkerOptions extends ComponentOptions {
  name: string;
  tags?: string[];
  workerClass?: WorkerClass;
  /** called with every assembled event (the debug worker keeps them) */
  onEvent?: (event: EventData) => void;
}

interface IngesterLink {
  instance: string;
  socket: zmq.Dealer;
}

const DISCOVERY_MS = 500;
/**
 * completions wait up to this long for company: each report costs Redis and the controller a round
 * trip. With 1 MiB frames, 5 ms sent one report per 2–3 events, and the controller and Redis took
 * a quarter of a core; 20 ms took a sixth
 */
const REPORT_AFTER_MS = 20;
const REPORT_BATCH = 64;
/** partial events of a scan this worker has not adopted yet are kept, up to this many */
const EARLY_LIMIT = 10_000;
const STOP_FLUSH_MS = 1000;

interface PendingResult { scan: string; event: number; parametersHash: string | null; body: Buffer }

export class Worker extends Component {
  readonly tags: string[];
  private readonly links = new Map<string, IngesterLink>();
  private reducer?: { instance: string; socket: zmq.Push };
  private discovery?: NodeJS.Timeout;
  private instance?: WorkerInstance;
  private readonly assembler = new EventAssembler();
  private early: { scan: string; events: PartialEvent[] }[] = [];
  private readonly results = new Outbox<PendingResult>((_, results) => this.sendResults(results), DATA_PLANE_LIMITS,
    (error) => this.logger.error(`sending results: ${error}`));
  private readonly processing = new SerialDrain<EventData>(() => this.assembler.takeReady(), (event) => this.processTimed(event),
    (e) => this.logger.error(`processing loop: ${(e as Error)?.stack ?? e}`));
  private done: number[] = [];
  private failed: [number, string][] = [];
  private resultCount = 0;
  private times: WorkerTimes = { waiting: 0, active: 0, events: 0 };
  private idleSince = performance.now();
  private reportTimer?: NodeJS.Timeout;
  private lastEvent: number | null = null;
  private clock?: TickClock;

  constructor(private readonly opts: WorkerOptions) {
    super('worker', opts.name, opts);
    this.tags = opts.tags?.length ? opts.tags : ['generic'];
    for (const d of opts.workerClass?.describeParameters?.() ?? []) this.descriptions.set(d.name, d);
  }

  override async start(): Promise<void> {
    await this.discover();
    this.discovery = setInterval(() => { this.discover().catch((e) => this.logger.warn(`discovery: ${e}`)); }, DISCOVERY_MS);
    await super.start();
    this.logger.info(`worker ${this.name} (tags ${this.tags.join(', ')}) ready`);
  }

  override async stop(): Promise<void> {
    clearInterval(this.discovery);
    clearTimeout(this.reportTimer);
    // results still batched go out before the socket closes, unless no reducer takes them
    if (this.reducer) await Promise.race([this.results.flush(), new Promise((r) => setTimeout(r, STOP_FLUSH_MS))]);
    await super.stop();
    for (const link of this.links.values()) link.socket.close();
    this.reducer?.socket.close();
  }

  protected extraState(): Record<string, unknown> {
    return { tags: this.tags, ingesters: [...this.links.keys()], last_event: this.lastEvent };
  }

  private async discover(): Promise<void> {
    const ensemble = await readEnsemble(this.redis, this.keys);
    const present = new Set<string>();
    for (const ingester of ensemble.ingesters) {
      if (!ingester.url) continue;
      present.add(ingester.name);
      const link = this.links.get(ingester.name);
      if (link?.instance === ingester.service_uuid) {
        link.socket.send(PING).catch(() => undefined);
        continue;
      }
      link?.socket.close();
      this.links.set(ingester.name, this.connectIngester(ingester.url, ingester.service_uuid));
    }
    for (const [name, link] of this.links) {
      if (!present.has(name)) { link.socket.close(); this.links.delete(name); }
    }
    const reducer = ensemble.reducer;
    if (reducer?.url && reducer.service_uuid !== this.reducer?.instance) {
      this.reducer?.socket.close();
      const socket = new zmq.Push({ linger: 5000 });
      socket.connect(reducer.url);
      this.reducer = { instance: reducer.service_uuid, socket };
    }
  }

  private connectIngester(url: string, instance: string): IngesterLink {
    const socket = new zmq.Dealer({ routingId: this.name, linger: 0 });
    socket.connect(url);
    socket.send(PING).catch(() => undefined);
    this.receive(socket).catch((e) => { if (!socket.closed) this.logger.error(`receiving from ${url}: ${e}`); });
    return { instance, socket };
  }

  private async receive(socket: zmq.Dealer): Promise<void> {
    for await (const message of socket) {
      noteReceived(message);
      this.accept(message);
    }
  }

  private accept(message: Buffer[]): void {
    let batch;
    try {
      batch = decodeEventBatch(message);
    } catch (error) {
      this.logger.error(`dropping a malformed message from an ingester: ${(error as Error).message}`);
      return;
    }
    if (batch.scan !== this.scan?.scan) {
      // an ingester may learn of a new scan before this worker does
      if (this.early.length < EARLY_LIMIT) this.early.push(batch);
      return;
    }
    this.assemble(batch.events);
  }

  private assemble(events: PartialEvent[]): void {
    for (const { event, streams, expect } of events) {
      try {
        this.assembler.add(event, streams, expect);
      } catch (error) {
        this.failEvent(event, (error as Error).message);
      }
    }
    this.processing.kick();
  }

  /** one assembled event through the user's class, timed for /api/v1/load */
  private async processTimed(event: EventData): Promise<void> {
    const started = performance.now();
    this.times.waiting += (started - this.idleSince) / 1000;
    await this.processEvent(event);
    this.idleSince = performance.now();
    this.times.active += (this.idleSince - started) / 1000;
    this.times.events += 1;
  }

  private async processEvent(event: EventData): Promise<void> {
    const scan = this.scan!.scan;
    this.opts.onEvent?.(event);
    let result: unknown;
    if (this.instance) {
      try {
        const tick = await this.clock!.tick(this.instance.getTickInterval?.(this.parameters));
        result = this.instance.processEvent(event, this.parameters, tick);
        if (result instanceof Promise) result = await result;
      } catch (error) {
        this.failEvent(event.eventNumber, `processEvent threw: ${(error as Error)?.message ?? error}`);
        return;
      }
    }
    // an unencodable result fails the event, which completes it
    if (result !== undefined && result !== null && !(await this.queueResult(scan, event.eventNumber, result))) return;
    this.completeEvent(event.eventNumber);
  }

  private async queueResult(scan: string, event: number, payload: unknown): Promise<boolean> {
    let body: Buffer;
    try {
      // a Python worker's result comes encoded already, and goes on as it is
      body = payload instanceof EncodedResult ? payload.body : encode(payload);
    } catch (error) {
      this.failEvent(event, `result cannot be encoded: ${(error as Error).message}`);
      return false;
    }
    this.resultCount += 1;
    const parametersHash = this.parametersHash;
    await this.results.add(`${scan} ${parametersHash}`, { scan, event, parametersHash, body }, body.length);
    return true;
  }

  /** one batch: results of one scan under one parameter version */
  private async sendResults(results: PendingResult[]): Promise<void> {
    while (!this.reducer) await new Promise((r) => setTimeout(r, 50));
    const { scan, parametersHash } = results[0];
    await this.reducer.socket.send(encodeResultBatch({ scan, worker: this.name, instance: this.instanceId, parametersHash },
      results.map((r) => r.event), results.map((r) => r.body)));
  }

  private failEvent(event: number, reason: string): void {
    this.errors += 1;
    this.logger.error(`event ${event}: ${reason}`);
    this.failed.push([event, reason]);
    this.completeEvent(event);
  }

  private completeEvent(event: number): void {
    this.processed += 1;
    this.lastEvent = event;
    this.done.push(event);
    if (this.done.length >= REPORT_BATCH) this.flushReport();
    else this.reportTimer ??= setTimeout(() => this.flushReport(), REPORT_AFTER_MS);
  }

  private flushReport(): void {
    clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    if (!this.done.length || !this.scan) return;
    const report = { kind: 'done' as const, worker: this.name, instance: this.instanceId, events: this.done, failed: this.failed, results: this.resultCount, times: this.times };
    this.done = [];
    this.failed = [];
    this.times = { waiting: 0, active: 0, events: 0 };
    this.report(report).catch((e) => this.logger.error(`reporting completions failed: ${e}`));
  }

  protected async onScan(scan: ScanInfo): Promise<void> {
    this.flushReport();
    this.assembler.clear();
    this.resultCount = 0;
    this.clock = new TickClock(this.redis, tickClockKey(this.keys.prefix, scan.scan));
    // without an instance, events are acknowledged unprocessed
    this.instance = this.instantiate(this.opts.workerClass);
    const early = this.early.filter((m) => m.scan === scan.scan);
    this.early = [];
    setImmediate(() => { for (const batch of early) this.assemble(batch.events); });
  }

  protected async onFinish(scan: string): Promise<void> {
    await this.results.flush();
    this.flushReport();
    await this.callUserCode('finish threw', () => this.instance?.finish?.(this.parameters));
    await this.report({ kind: 'finished', component: this.field }, scan);
  }
}
