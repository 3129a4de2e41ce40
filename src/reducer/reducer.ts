/**
 * Reducer: receives every worker result, runs the user's `processResult` on each (and `timer`
 * periodically), tells the controller which events it reduced (that ends them), and serves `publish`.
 * Results of a worker the controller gave up on (fenced) are refused from then on: its events went
 * to another worker.
 */
import type { Server } from 'node:http';
import * as zmq from 'zeromq';
import { decode } from 'cbor-x';
import Router from '@koa/router';
import { Component, type ComponentOptions } from '../core/component.js';
import { within } from '../core/redis.js';
import { toRanges } from '../core/ranges.js';
import type { ScanInfo } from '../core/messages.js';
import type { ReducerClass, ReducerInstance } from '../core/types.js';
import { decodeResultBatch, type ResultBatch } from '../core/wire.js';
import { SerialDrain } from '../core/serial-drain.js';
import { AsyncQueue } from '../core/async-queue.js';
import { collectAfterScan, noteReceived } from '../core/received-memory.js';
import { createResultRouter } from './results/router.js';
import { createHdf5Router } from './results/hdf5.js';
import { createHttpApp, listen, type HttpSecurity } from '../core/http/app.js';
import { DEFAULT_REDUCER_PORT, DEFAULT_ZMQ_BIND } from '../core/defaults.js';
import { timerDelaySeconds } from './timer.js';
import { advertisedEndpoint } from '../core/advertise.js';

export interface ReducerOptions extends ComponentOptions {
  reducerClass?: ReducerClass;
  /** zmq endpoint the workers push results to; port 0 picks a free one */
  bind?: string;
  /** host published for the workers instead of the bound one (a wildcard bind on a host of its own) */
  advertise?: string;
  httpPort?: number;
  httpHost?: string;
  security?: HttpSecurity;
}

const REPORT_INTERVAL_MS = 20;
const FINISH_WAIT_MS = 10_000;
/** result messages of a scan this reducer has not adopted yet are kept, up to this many */
const EARLY_LIMIT = 10_000;

export class Reducer extends Component {
  private readonly socket = new zmq.Pull({ linger: 0, receiveHighWaterMark: 10_000 });
  private endpoint = '';
  private instance?: ReducerInstance;
  /** events reduced since the last report, by sender `name/instance` */
  private reducedSince = new Map<string, number[]>();
  private failed: [number, string, string][] = [];
  private refused = 0;
  private refusedReported = 0;
  /** senders whose results are refused from now on */
  private readonly fenced = new Set<string>();
  private reportTimer?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  private timerGeneration = 0;
  private early: ResultBatch[] = [];
  private readonly queue = new AsyncQueue<ResultBatch>();
  private readonly reducing = new SerialDrain<ResultBatch>(() => this.queue.shift(), (batch) => this.reduce(batch),
    (e) => this.logger.error(`reduce loop: ${(e as Error)?.stack ?? e}`));
  private server?: Server;
  httpPort = 0;

  constructor(private readonly opts: ReducerOptions) {
    super('reducer', 'reducer', opts);
    for (const d of opts.reducerClass?.describeParameters?.() ?? []) this.descriptions.set(d.name, d);
  }

  /** what the HTTP API serves: the user's publish of the current scan, empty before one */
  get publish(): Record<string, unknown> {
    return this.instance?.publish ?? {};
  }

  override async start(): Promise<void> {
    await this.socket.bind((this.opts.bind ?? DEFAULT_ZMQ_BIND).replace(/:0$/, ':*'));
    this.endpoint = this.socket.lastEndpoint!;
    const app = createHttpApp(this.logger, this.opts.security);
    const status = new Router().get('/api/v1/status', (ctx) => { ctx.body = true; });
    const results = createResultRouter(() => this.publish);
    // HDF5 REST (h5pyd, silx, h5web) at the root, as the original 0.2
    const hdf5 = createHdf5Router(() => this.publish);
    app.use(status.routes()).use(results.routes()).use(results.allowedMethods()).use(hdf5.routes());
    ({ server: this.server, port: this.httpPort } = await listen(app, this.opts.httpPort ?? DEFAULT_REDUCER_PORT, this.opts.httpHost));
    this.receive().catch((e) => { if (!this.socket.closed) this.logger.error(`result receive: ${e}`); });
    this.reportTimer = setInterval(() => { void this.sendReduced(); }, REPORT_INTERVAL_MS);
    await super.start();
    this.logger.info(`reducer receives results at ${this.endpoint}, serves publish on port ${this.httpPort}`);
  }

  override async stop(): Promise<void> {
    clearInterval(this.reportTimer);
    clearTimeout(this.timer);
    await super.stop();
    this.socket.close();
    await new Promise((r) => this.server?.close(r));
  }

  protected extraState(): Record<string, unknown> {
    return { url: advertisedEndpoint(this.endpoint, this.opts.advertise), http_port: this.httpPort, refused_messages: this.refused };
  }

  private async receive(): Promise<void> {
    for await (const message of this.socket) {
      noteReceived(message);
      let batch: ResultBatch;
      try {
        batch = decodeResultBatch(message);
      } catch (error) {
        this.refuse(`a malformed result message: ${(error as Error).message}`);
        continue;
      }
      if (batch.source.scan !== this.scan?.scan) {
        // a worker may send results of a scan this reducer has not adopted yet
        if (this.early.length < EARLY_LIMIT) this.early.push(batch);
        continue;
      }
      if (batch.source.token !== this.scan.token) {
        this.refuse(`results for scan ${batch.source.scan} without its token, from ${JSON.stringify(batch.source.worker)}`);
        continue;
      }
      this.queue.push(batch);
      this.reducing.kick();
    }
  }

  private refuse(what: string): void {
    this.refused += 1;
    this.errors += 1;
    if (this.refused === 1 || this.refused % 1000 === 0) this.logger.error(`refused ${what} (${this.refused} so far)`);
  }

  /**
   * the results of one batch, from `first` on, through user code; a promise only when user code
   * returns one (the rest of the batch then follows it), so that a batch costs no promise otherwise
   */
  private reduce(batch: ResultBatch, first = 0): Promise<void> | void {
    const { source, events, bodies } = batch;
    const sender = `${source.worker}/${source.instance}`;
    // checked again after user code awaited: a fence may arrive meanwhile
    if (this.fenced.has(sender)) return;
    const { worker, parametersHash } = source;
    const instance = this.instance;
    const reduced = this.reducedList(sender);
    for (let i = first; i < events.length; i++) {
      let pending: unknown;
      try {
        // a Python reducer takes the CBOR body as it came
        pending = instance?.processEncodedResult
          ? instance.processEncodedResult({ eventNumber: events[i], worker, parametersHash, payload: bodies[i] }, this.parameters)
          : instance?.processResult({ eventNumber: events[i], worker, parametersHash, payload: decode(bodies[i]) }, this.parameters);
      } catch (error) {
        this.resultFailed(events[i], sender, error);
      }
      if (pending instanceof Promise) return this.reduceAfter(pending, batch, i, sender);
      reduced.push(events[i]);
      this.processed += 1;
    }
  }

  /** result `i` of a batch once user code settled on it, then the rest of the batch */
  private async reduceAfter(pending: Promise<unknown>, batch: ResultBatch, i: number, sender: string): Promise<void> {
    try {
      await pending;
    } catch (error) {
      this.resultFailed(batch.events[i], sender, error);
    }
    // a report sent while user code awaited started a new list
    this.reducedList(sender).push(batch.events[i]);
    this.processed += 1;
    await this.reduce(batch, i + 1);
  }

  /** a result user code threw on: the event ends failed, with the reason */
  private resultFailed(event: number, sender: string, error: unknown): void {
    this.errors += 1;
    const reason = `processResult threw: ${(error as Error)?.message ?? error}`;
    this.failed.push([event, sender, reason]);
    this.logger.error(`event ${event} from ${sender}: ${reason}`);
  }

  private reducedList(sender: string): number[] {
    let reduced = this.reducedSince.get(sender);
    if (!reduced) this.reducedSince.set(sender, reduced = []);
    return reduced;
  }

  /** what was reduced since the last report, if anything */
  private async sendReduced(scan = this.scan?.scan): Promise<void> {
    if (!scan || (!this.reducedSince.size && !this.failed.length && this.refused === this.refusedReported)) return;
    const events = Object.fromEntries([...this.reducedSince].map(([sender, list]) => [sender, toRanges(list)]));
    const failed = this.failed.splice(0);
    this.reducedSince = new Map();
    this.refusedReported = this.refused;
    await this.report({ kind: 'reduced', instance: this.instanceId, events, failed, refused: this.refused }, scan)
      .catch((e) => { this.logger.error(`reporting results failed: ${e}`); });
  }

  protected override async onFence(scan: string, parts: string[]): Promise<void> {
    const senders = parts.filter((p) => p.startsWith('worker:')).map((p) => p.slice('worker:'.length));
    for (const sender of senders) this.fenced.add(sender);
    // everything reduced before the fence is reported first, so the controller knows exactly what to redo
    await this.sendReduced(scan);
    for (const sender of senders) await this.report({ kind: 'fenced', instance: this.instanceId, sender }, scan);
  }

  private scheduleTimer(generation: number, seconds: number): void {
    this.timer = setTimeout(() => { this.runTimer(generation).catch(() => undefined); }, seconds * 1000);
  }

  private async runTimer(generation: number): Promise<void> {
    if (generation !== this.timerGeneration || !this.instance?.timer) return;
    const instance = this.instance;
    const next = await this.callUserCode('timer threw', () => instance.timer!(this.parameters));
    if (generation === this.timerGeneration) this.scheduleTimer(generation, timerDelaySeconds(next));
  }

  protected async onScan(scan: ScanInfo): Promise<void> {
    clearTimeout(this.timer);
    this.timerGeneration += 1;
    this.reducedSince = new Map();
    this.failed = [];
    this.fenced.clear();
    this.queue.takeAll();
    this.instance = this.instantiate(this.opts.reducerClass);
    if (this.instance?.timer) this.runTimer(this.timerGeneration).catch(() => undefined);
    const early = this.early.filter((batch) => batch.source.scan === scan.scan && batch.source.token === scan.token);
    this.early = [];
    for (const batch of early) this.queue.push(batch);
    this.reducing.kick();
  }

  protected async onFinish(scan: string): Promise<void> {
    await within(FINISH_WAIT_MS, this.reducing.settled());
    clearTimeout(this.timer);
    this.timerGeneration += 1;
    await this.callUserCode('finish threw', () => this.instance?.finish?.(this.parameters));
    await this.sendReduced(scan);
    await this.report({ kind: 'finished', component: this.field, instance: this.instanceId }, scan);
    collectAfterScan();
  }
}
