/**
 * One scan in the controller: admits the components, hands out assignments in batches as workers
 * return credit, tracks completions, results and errors, and decides when the scan is finished.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { Assigner, type Assignment, type TriggerSequence } from '../core/mapping/index.js';
import { reportSchema, type AssignmentBatch, type Report } from '../core/messages.js';
import { readStream, type Keys } from '../core/redis.js';
import type { Ensemble } from '../core/registry.js';
import { WorkerLoad } from './load.js';

export interface ScanOptions {
  /** unfinished events a worker may hold */
  credit: number;
  /** and the bytes they may add up to: credit shrinks for large events, as ingesters report their sizes */
  creditBytes: number;
  /** how long to wait for every component to adopt the scan before assigning anyway */
  admissionMs: number;
}

const MAX_EVENTS_PER_ENTRY = 500;
const MAX_LISTED_PROBLEMS = 1000;

export interface ScanProblem { event: number; component: string; reason: string }

export class Scan {
  readonly assigner: Assigner;
  readonly load = new WorkerLoad();
  /** components expected to take part (alive when the scan was set) and those that adopted it */
  private readonly expected: Set<string>;
  /** component → the process instance that adopted the scan */
  private readonly ready = new Map<string, string>();
  private readonly finishedComponents = new Set<string>();
  /** the ensemble the workers were last taken from; a new one, or a new ready report, updates them */
  private workersFrom?: Ensemble;
  private readonly workerResults = new Map<string, number>();
  private reducerCounts: Record<string, number> = {};
  /** `name/instance` of workers that vanished: their results are no longer waited for */
  private readonly droppedInstances = new Set<string>();
  /** the instance of each worker the assigner currently uses */
  private readonly assignedInstances = new Map<string, string>();
  readonly failedEvents: ScanProblem[] = [];
  readonly reducerFailures: ScanProblem[] = [];
  readonly badFrames: ScanProblem[] = [];
  readonly lostEvents: ScanProblem[] = [];
  private failedCount = 0;
  private badFrameCount = 0;
  private readonly forwarded = new Map<string, { events: number; bytes: number }>();
  private lastReportId = '0';
  private running = true;
  private finishSent = false;
  private admitted = false;
  private readonly admissionDone: Promise<void>;
  private admit!: () => void;
  private readonly started = Date.now();
  readonly loop: Promise<void>;

  constructor(
    readonly id: string,
    readonly sequence: TriggerSequence,
    ensemble: Ensemble,
    private readonly redis: Redis,
    private readonly blocking: Redis,
    private readonly keys: Keys,
    private readonly logger: Logger,
    private readonly options: ScanOptions,
    private readonly sendFinish: (scan: Scan) => Promise<void>,
    private ensembleNow: () => Ensemble,
  ) {
    this.assigner = new Assigner(sequence, { credit: options.credit });
    this.expected = new Set([
      ...ensemble.ingesters.map((i) => `ingester:${i.name}`),
      ...ensemble.workers.map((w) => `worker:${w.name}`),
      ...(ensemble.reducer ? ['reducer:reducer'] : []),
    ]);
    this.admissionDone = new Promise((resolve) => { this.admit = resolve; });
    this.loop = this.run();
  }

  /** resolves once every component adopted the scan (or the admission time ran out) */
  async waitForAdmission(): Promise<string[]> {
    await this.admissionDone;
    return [...this.expected].filter((c) => !this.ready.has(c));
  }

  get finishedByComponents(): boolean {
    if (!this.finishSent) return false;
    const alive = this.aliveComponents();
    return [...alive].every((c) => this.finishedComponents.has(c) || !this.ready.has(c));
  }

  get isFinishSent(): boolean { return this.finishSent; }

  private aliveComponents(): Set<string> {
    const e = this.ensembleNow();
    return new Set([
      ...e.ingesters.map((i) => `ingester:${i.name}`),
      ...e.workers.map((w) => `worker:${w.name}`),
      ...(e.reducer ? ['reducer:reducer'] : []),
    ]);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop.catch(() => undefined);
  }

  /** finishes the scan with whatever completed: when it is complete, or on /api/v1/stop */
  async finish(): Promise<void> {
    if (this.finishSent) return;
    this.finishSent = true;
    try {
      await this.sendFinish(this);
    } catch (error) {
      this.finishSent = false;   // the next round tries again
      throw error;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.step();
      } catch (error) {
        // a scan that stops being driven would hang: log and go on
        this.logger.error(`scan ${this.id}: ${(error as Error)?.stack ?? error}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.blocking.disconnect();
  }

  /** one round: read reports, admit, assign as far as credit allows, finish when done */
  private async step(): Promise<void> {
    // a failed read throws to run(), which logs it and waits before the next round
    const entries = await readStream(this.blocking, this.keys.reports(this.id), this.lastReportId, { blockMs: 50, count: 2000 });
    for (const { id, fields } of entries) {
      this.lastReportId = id;
      this.handle(fields[1]);
    }
    if (!this.admitted && ([...this.expected].every((c) => this.ready.has(c)) || Date.now() - this.started > this.options.admissionMs)) {
      this.admitted = true;
      this.admit();
    }
    if (!this.admitted) return;
    this.updateWorkers();
    await this.publish(this.assigner.assign());
    if (!this.finishSent && this.isComplete()) await this.finish();
  }

  private handle(raw: string): void {
    let report: Report;
    try {
      report = reportSchema.parse(JSON.parse(raw));
    } catch (error) {
      this.logger.warn(`ignoring a malformed report: ${(error as Error).message}`);
      return;
    }
    switch (report.kind) {
      case 'ready':
        this.ready.set(report.component, report.instance);
        this.workersFrom = undefined;
        break;
      case 'done': {
        // a dropped instance's events were counted lost; its late report must not credit its successor
        if (!this.droppedInstances.has(`${report.worker}/${report.instance}`)) this.assigner.complete(report.worker, report.events);
        this.workerResults.set(`${report.worker}/${report.instance}`, report.results);
        if (report.events.length) this.load.record(report.worker, Math.max(...report.events), report.times);
        for (const [event, reason] of report.failed) {
          this.failedCount += 1;
          if (this.failedEvents.length < MAX_LISTED_PROBLEMS) this.failedEvents.push({ event, component: report.worker, reason });
        }
        break;
      }
      case 'reduced':
        this.reducerCounts = report.counts;
        for (const [event, worker, reason] of report.failed) {
          if (this.reducerFailures.length < MAX_LISTED_PROBLEMS) this.reducerFailures.push({ event, component: worker, reason });
        }
        break;
      case 'ingested':
        this.forwarded.set(report.ingester, { events: report.forwarded, bytes: report.bytes });
        this.sizeCredit();
        for (const [stream, event, reason] of report.bad) {
          this.badFrameCount += 1;
          if (this.badFrames.length < MAX_LISTED_PROBLEMS) this.badFrames.push({ event, component: `${report.ingester}/${stream}`, reason });
        }
        break;
      case 'finished':
        this.finishedComponents.add(report.component);
        break;
    }
  }

  /** credit from the mean event size: the sum over ingesters of their mean forwarded bytes */
  private sizeCredit(): void {
    let eventBytes = 0;
    for (const { events, bytes } of this.forwarded.values()) if (events) eventBytes += bytes / events;
    const credit = eventBytes ? Math.min(this.options.credit, Math.max(1, Math.floor(this.options.creditBytes / eventBytes))) : this.options.credit;
    this.assigner.setCredit(credit);
  }

  /**
   * Workers whose running instance adopted this scan. One that vanished, or was restarted under
   * the same name (a new instance), loses its unfinished events; a restarted one rejoins once it
   * adopts the scan again.
   */
  private updateWorkers(): void {
    const ensemble = this.ensembleNow();
    if (ensemble === this.workersFrom) return;                 // nothing changed since the last round
    this.workersFrom = ensemble;
    const registered = ensemble.workers;
    for (const w of registered) {
      const assigned = this.assignedInstances.get(w.name);
      if (assigned !== undefined && assigned !== w.service_uuid) this.dropInstance(w.name, 'restarted');
    }
    const workers = registered.filter((w) => this.ready.get(`worker:${w.name}`) === w.service_uuid);
    for (const w of workers) this.assignedInstances.set(w.name, w.service_uuid);
    for (const gone of this.assigner.setWorkers(workers.map((w) => ({ name: w.name, tags: w.tags ?? ['generic'] })))) {
      this.dropInstance(gone, 'vanished');
    }
  }

  private dropInstance(worker: string, how: 'vanished' | 'restarted'): void {
    this.droppedInstances.add(`${worker}/${this.assignedInstances.get(worker)}`);
    this.assignedInstances.delete(worker);
    const lost = this.assigner.dropWorker(worker);
    // a pipeline stopping after its last event lets workers go, which costs the scan nothing
    if (!lost.length && this.assigner.completedEvents >= this.sequence.totalEvents) {
      this.logger.info(`worker ${worker} ${how} after the last event of scan ${this.id}`);
    } else {
      this.logger.error(`worker ${worker} ${how} during scan ${this.id}; ${lost.length} unfinished events are lost`);
    }
    for (const event of lost) {
      if (this.lostEvents.length < MAX_LISTED_PROBLEMS) this.lostEvents.push({ event, component: worker, reason: `worker ${how}` });
    }
  }

  private async publish(assignments: Assignment[]): Promise<void> {
    if (!assignments.length) return;
    const pipeline = this.redis.pipeline();
    for (let i = 0; i < assignments.length; i += MAX_EVENTS_PER_ENTRY) {
      const chunk = assignments.slice(i, i + MAX_EVENTS_PER_ENTRY);
      const batch: AssignmentBatch = { first: chunk[0].event, a: chunk.map((a) => a.streams) };
      pipeline.xadd(this.keys.assignments(this.id), '*', 'd', JSON.stringify(batch));
    }
    await pipeline.exec();
  }

  private isComplete(): boolean {
    if (this.assigner.completedEvents < this.sequence.totalEvents) return false;
    for (const [sender, results] of this.workerResults) {
      if (!this.droppedInstances.has(sender) && (this.reducerCounts[sender] ?? 0) < results) return false;
    }
    return true;
  }

  progress(): { last_assigned: number; completed_events: number; total_events: number; finished: boolean } {
    return {
      last_assigned: this.assigner.assignedEvents,
      completed_events: this.assigner.completedEvents,
      total_events: this.sequence.totalEvents,
      finished: this.finishedByComponents,
    };
  }

  status(): Record<string, unknown> {
    return {
      mapping_uuid: this.id,
      ...this.progress(),
      assignment: this.assigner.bindings().map((b) => (Object.keys(b).length > MAX_LISTED_PROBLEMS ? { truncated: `${Object.keys(b).length} bindings` } : b)),
      blocked: this.assigner.blockedReason(),
      waiting_for: [...this.expected].filter((c) => !this.ready.has(c)),
      forwarded: Object.fromEntries([...this.forwarded].map(([ingester, { events }]) => [ingester, events])),
      credit: this.assigner.credit,
      results: Object.fromEntries(this.workerResults),
      reduced: this.reducerCounts,
      failed_event_count: this.failedCount,
      failed_events: this.failedEvents,
      reducer_failures: this.reducerFailures,
      bad_frame_count: this.badFrameCount,
      bad_frames: this.badFrames,
      lost_events: this.lostEvents,
      processing_times: this.load.processingTimes(),
      finished_components: [...this.finishedComponents],
    };
  }
}
