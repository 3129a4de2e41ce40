/**
 * Worker: connects to every ingester and to the reducer, assembles events, runs the user's
 * `processEvent` on each in order, sends results to the reducer and reports its progress in batches
 * (the credit that lets the controller assign more). An event ends here when it has no result, or
 * fails; an event with a result ends when the reducer has reduced it.
 */
import * as zmq from 'zeromq';
import { encode } from 'cbor-x';
import { Component, type ComponentOptions } from '../core/component.js';
import type { DoneReport, ScanInfo, WorkerTimes } from '../core/messages.js';
import { readEnsemble } from '../core/registry.js';
import { within } from '../core/redis.js';
import { toRanges } from '../core/ranges.js';
import type { EventData, WorkerClass, WorkerInstance } from '../core/types.js';
import { decodeEventBatch, encodeResultBatch, PING, type EventBatch, type PartialEvent } from '../core/wire.js';
import { DATA_PLANE_LIMITS, Outbox } from '../core/outbox.js';
import { SerialDrain } from '../core/serial-drain.js';
import { EventAssembler } from './assembler.js';
import { hasKeys } from '../core/event-table.js';
import { collectAfterScan, noteReceived } from '../core/received-memory.js';
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

interface ReducerLink {
  instance: string;
  socket: zmq.Push;
}

const DISCOVERY_MS = 500;
/**
 * progress waits up to this long for company: each report costs Redis and the controller a round
 * trip. With 1 MiB frames, 5 ms sent one report per 2–3 events, and the controller and Redis took
 * a quarter of a core; 20 ms took a sixth
 */
const REPORT_AFTER_MS = 20;
const REPORT_BATCH = 64;
/**
 * events whose results went to the reducer end when it reduces them: the worker's word on them only
 * matters if that reducer dies, so it may wait longer and gather more (a report per 64 events was
 * a tenth of a worker's time)
 */
const SENT_REPORT_AFTER_MS = 100;
const SENT_REPORT_BATCH = 1024;
/** partial events of a scan this worker has not adopted yet are kept, up to this many messages */
const EARLY_LIMIT = 10_000;
const STOP_FLUSH_MS = 1000;
const FINISH_WAIT_MS = 10_000;

interface PendingResult { scan: string; event: number; parametersHash: string | null; body: Buffer }


export class Worker extends Component {
  readonly tags: string[];
  private readonly links = new Map<string, IngesterLink>();
  private reducer?: ReducerLink;
  private reducerChanged?: () => void;
  private discovery?: NodeJS.Timeout;
  private instance?: WorkerInstance;
  private readonly assembler = new EventAssembler();
  private early: EventBatch[] = [];
  private readonly results = new Outbox<PendingResult>((_, results) => this.sendResults(results), DATA_PLANE_LIMITS,
    (error) => this.logger.error(`sending results: ${error}`));
  private readonly processingFailed = (e: unknown): void => { this.logger.error(`processing loop: ${(e as Error)?.stack ?? e}`); };
  private readonly processing = new SerialDrain(() => this.assembler.takeReady(), (ready) => this.admit(ready), this.processingFailed,
    { running: (running) => this.busy(running ? 1 : -1) });
  private progress = this.emptyProgress();
  private times: WorkerTimes = { waiting: 0, active: 0, events: 0 };
  private idleSince = performance.now();
  private busySince = 0;
  /** processing runs going (0 or 1) and events in user code after their run ended (a class that takes several at once) */
  private busyReasons = 0;
  /**
   * those of them still awaited, for classes that take several events at once (`inFlight`); a few,
   * so an array (a Set that an event enters and leaves keeps, through its old tables, the events'
   * promises and frames from the young collections: assembler.ts)
   */
  private readonly inFlight: Promise<void>[] = [];
  /** the outbox destination of results (`<scan> <parameters hash>`), kept while both stay the same */
  private destination = { scan: '', parametersHash: null as string | null, key: '' };
  private reportTimer?: NodeJS.Timeout;
  private reportDue = 0;
  private lastEvent: number | null = null;
  private clock?: TickClock;
  private refused = 0;
  private stopping = false;

  constructor(private readonly opts: WorkerOptions) {
    super('worker', opts.name, opts);
    this.tags = opts.tags?.length ? opts.tags : ['generic'];
    for (const d of opts.workerClass?.describeParameters?.() ?? []) this.descriptions.set(d.name, d);
  }

  override async start(): Promise<void> {
    await this.discover();
    this.discovery = setInterval(() => { this.discover().catch(() => undefined); }, DISCOVERY_MS);
    await super.start();
    this.logger.info(`worker ${this.name} (tags ${this.tags.join(', ')}) ready`);
  }

  override async stop(): Promise<void> {
    clearInterval(this.discovery);
    clearTimeout(this.reportTimer);
    // no new events; the one in user code ends, and results still batched go out before the socket
    // closes, unless no reducer takes them (the controller gives what did not end to another worker)
    this.stopping = true;
    this.assembler.clear();
    await within(STOP_FLUSH_MS, this.processing.settled());
    if (this.reducer) await within(STOP_FLUSH_MS, this.results.flush());
    this.flushReport();
    await super.stop();
    for (const link of this.links.values()) link.socket.close();
    this.reducer?.socket.close();
  }

  protected extraState(): Record<string, unknown> {
    return { tags: this.tags, ingesters: [...this.links.keys()], last_event: this.lastEvent, refused_messages: this.refused };
  }

  private emptyProgress() {
    return { done: [] as number[], sent: new Map<string, number[]>(), failed: [] as [number, string][], missing: [] as [number, string, string][], count: 0, ended: 0 };
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
    if (reducer?.url === undefined || reducer.service_uuid !== this.reducer?.instance) {
      // results queued for a reducer that is gone are lost with it (the controller counts them);
      // the next ones wait for its successor
      this.reducer?.socket.close();
      this.reducer = undefined;
    }
    if (reducer?.url && !this.reducer) {
      // immediate: while the reducer is not connected, a send waits instead of queueing for a peer that may never return
      const socket = new zmq.Push({ linger: 0, immediate: true });
      socket.connect(reducer.url);
      this.reducer = { instance: reducer.service_uuid, socket };
      this.reducerChanged?.();
    }
  }

  private connectIngester(url: string, instance: string): IngesterLink {
    const socket = new zmq.Dealer({ routingId: this.identity, linger: 0 });
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
    let batch: EventBatch;
    try {
      batch = decodeEventBatch(message);
    } catch (error) {
      this.refuse(`a malformed message from an ingester: ${(error as Error).message}`);
      return;
    }
    if (batch.scan !== this.scan?.scan) {
      // an ingester may learn of a new scan before this worker does
      if (this.early.length < EARLY_LIMIT) this.early.push(batch);
      return;
    }
    if (batch.token !== this.scan.token) {
      this.refuse(`a message for scan ${batch.scan} without its token`);
      return;
    }
    this.assemble(batch.events);
  }

  private refuse(what: string): void {
    this.refused += 1;
    this.errors += 1;
    if (this.refused === 1 || this.refused % 1000 === 0) this.logger.error(`refused ${what} (${this.refused} so far)`);
  }

  private assemble(events: PartialEvent[]): void {
    if (this.stopping) return;
    for (const { event, streams, expect, missing } of events) this.assembler.add(event, streams, expect, missing);
    this.processing.kick();
  }

  /**
   * Hands one assembled event to user code. A class that takes several events at once (`inFlight`,
   * e.g. a Python class, whose process then works while this one assembles the next) gets the next
   * before this one is done; the run waits only when that many are pending. One at a time, an event
   * whose user code returns at once is handled without a promise.
   */
  private admit(ready: EventData): Promise<void> | void {
    const limit = this.instance?.inFlight ?? 1;
    if (limit <= 1 && !this.inFlight.length) return this.processEvent(ready);
    return this.admitConcurrent(ready, limit);
  }

  private async admitConcurrent(ready: EventData, limit: number): Promise<void> {
    this.busy(1);
    // settles either way, so that an event failing while nothing races on it is logged, not an unhandled rejection
    const processing: Promise<void> = new Promise<void>((resolve) => resolve(this.processEvent(ready)))
      .catch(this.processingFailed)
      .finally(() => {
        this.inFlight.splice(this.inFlight.indexOf(processing), 1);
        this.busy(-1);
      });
    this.inFlight.push(processing);
    while (this.inFlight.length >= limit) await Promise.race(this.inFlight);
  }

  /**
   * busy and idle time for /api/v1/load: busy while events are taken, processed and their results
   * queued, or in user code; the clock is read when that starts and ends, not per event
   */
  private busy(change: 1 | -1): void {
    if (change > 0 ? this.busyReasons++ !== 0 : --this.busyReasons !== 0) return;
    const now = performance.now();
    if (change > 0) {
      this.times.waiting += (now - this.idleSince) / 1000;
      this.busySince = now;
    } else {
      this.times.active += (now - this.busySince) / 1000;
      this.idleSince = now;
    }
  }

  /** one assembled event through the user's class */
  private processEvent(event: EventData): Promise<void> | void {
    const scan = this.scan!.scan;
    const number = event.eventNumber;
    const { missing } = event;
    if (missing) for (const stream in missing) this.progress.missing.push([number, stream, missing[stream]]);
    this.lastEvent = number;
    this.processed += 1;
    this.times.events += 1;
    // an event none of whose streams came has nothing for user code
    if (!hasKeys(event.streams)) return this.endedHere(number);
    this.opts.onEvent?.(event);
    const instance = this.instance;
    if (!instance) return this.endedHere(number);
    this.processingEvent(number);
    let result: unknown;
    try {
      const tick = this.clock!.tick(instance.getTickInterval?.(this.parameters));
      result = typeof tick === 'boolean'
        ? instance.processEvent(event, this.parameters, tick)
        : tick.then((t) => instance.processEvent(event, this.parameters, t));
    } catch (error) {
      this.processingEvent(-1);
      return this.failEvent(number, `processEvent threw: ${(error as Error)?.message ?? error}`);
    }
    if (result instanceof Promise) return this.awaitResult(scan, number, result);
    this.processingEvent(-1);
    return this.deliver(scan, number, result);
  }

  /** user code that returned a promise (or waited for the tick clock) */
  private async awaitResult(scan: string, number: number, pending: Promise<unknown>): Promise<void> {
    let result: unknown;
    try {
      result = await pending;
    } catch (error) {
      this.failEvent(number, `processEvent threw: ${(error as Error)?.message ?? error}`);
      return;
    } finally {
      this.processingEvent(-1);
    }
    await this.deliver(scan, number, result);
  }

  /** an event's result goes to the reducer; without one, the event ended here */
  private deliver(scan: string, number: number, result: unknown): Promise<void> | void {
    if (result === undefined || result === null) return this.endedHere(number);
    let body: Buffer;
    try {
      // a Python worker's result comes encoded already, and goes on as it is
      body = result instanceof EncodedResult ? result.body : encode(result);
    } catch (error) {
      return this.failEvent(number, `result cannot be encoded: ${(error as Error).message}`);
    }
    const parametersHash = this.parametersHash;
    const destination = this.destination;
    if (destination.scan !== scan || destination.parametersHash !== parametersHash) {
      this.destination = { scan, parametersHash, key: `${scan} ${parametersHash}` };
    }
    // waits while the reducer cannot take more: the worker then stops reading, and its ingesters wait
    return this.results.add(this.destination.key, { scan, event: number, parametersHash, body }, body.length);
  }

  /** one batch: results of one scan under one parameter version, to whichever reducer is there */
  private async sendResults(results: PendingResult[]): Promise<void> {
    const { scan, parametersHash } = results[0];
    const events = results.map((r) => r.event);
    const message = () => encodeResultBatch({ scan, token: this.scan?.token ?? '', worker: this.name, instance: this.instanceId, parametersHash },
      events, results.map((r) => r.body));
    for (;;) {
      while (!this.reducer) await new Promise<void>((resolve) => { this.reducerChanged = resolve; });
      const reducer = this.reducer;
      try {
        await reducer.socket.send(message());
      } catch (error) {
        if (this.reducer !== reducer) continue;   // the reducer changed while this waited: the new one gets it
        if (this.stopping) return;                 // stopped: what did not go out is the controller's to redo
        throw error;
      }
      let sent = this.progress.sent.get(reducer.instance);
      if (!sent) this.progress.sent.set(reducer.instance, sent = []);
      sent.push(...events);
      this.counted(events.length, true);
      return;
    }
  }

  private failEvent(event: number, reason: string): void {
    this.errors += 1;
    this.logger.error(`event ${event}: ${reason}`);
    this.progress.failed.push([event, reason]);
    this.counted(1);
  }

  /** an event that ended here: no result, or nothing came for it */
  private endedHere(event: number): void {
    this.progress.done.push(event);
    this.counted(1);
  }

  /** `sent`: events whose results went to the reducer (it ends them) rather than events that ended here */
  private counted(events: number, sent = false): void {
    this.progress.count += events;
    if (!sent) this.progress.ended += events;
    if (this.progress.ended >= REPORT_BATCH || this.progress.count >= SENT_REPORT_BATCH) {
      this.flushReport();
      return;
    }
    const due = this.progress.ended ? REPORT_AFTER_MS : SENT_REPORT_AFTER_MS;
    if (this.reportTimer && this.reportDue - performance.now() <= due) return;
    clearTimeout(this.reportTimer);
    this.reportDue = performance.now() + due;
    this.reportTimer = setTimeout(() => this.flushReport(), due);
  }

  private flushReport(): void {
    clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    const { done, sent, failed, missing, count } = this.progress;
    if (!count && !missing.length) return;
    if (!this.scan) return;
    const report: DoneReport = {
      kind: 'done', worker: this.name, instance: this.instanceId,
      events: toRanges(done), sent: Object.fromEntries([...sent].map(([reducer, events]) => [reducer, toRanges(events)])),
      failed, missing, times: this.times,
    };
    this.progress = this.emptyProgress();
    this.times = { waiting: 0, active: 0, events: 0 };
    this.report(report).catch((e) => this.logger.error(`reporting progress failed: ${e}`));
  }

  protected async onScan(scan: ScanInfo): Promise<void> {
    this.flushReport();
    this.assembler.reset();
    this.clock = new TickClock(this.redis, tickClockKey(this.keys.prefix, scan.scan));
    // without an instance, events are acknowledged unprocessed
    this.instance = this.instantiate(this.opts.workerClass);
    const early = this.early.filter((m) => m.scan === scan.scan && m.token === scan.token);
    this.early = [];
    setImmediate(() => { for (const batch of early) this.assemble(batch.events); });
  }

  protected async onFinish(scan: string): Promise<void> {
    // a scan stopped early may find user code busy, or results waiting for a reducer that is gone
    await within(FINISH_WAIT_MS, this.processing.settled().then(() => Promise.all(this.inFlight)));
    await within(FINISH_WAIT_MS, this.results.flush());
    this.flushReport();
    this.assembler.clear();
    await this.callUserCode('finish threw', () => this.instance?.finish?.(this.parameters));
    await this.report({ kind: 'finished', component: this.field, instance: this.instanceId }, scan);
    collectAfterScan();
  }
}
