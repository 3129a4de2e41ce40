/**
 * One scan in the controller. Each round reads the components' reports, admits them, hands out
 * assignments as credit allows, and finishes the scan once every event ended. Events end when a
 * worker reports them (no result, failed) or when the reducer reports their result reduced.
 *
 * Parts that end mid-scan (liveness.ts, or the supervisor seeing a process exit):
 * - a worker: suspended, fenced at the reducer (which says which of its results it reduced), then
 *   its other unfinished events go to another worker with the tags (the ingesters kept the frames)
 *   or, with no such worker, are lost;
 * - the reducer: results sent to it and not reduced are lost; a new reducer takes over the rest;
 * - an ingester: a new one resumes the scan where the old one stood;
 * and when no replacement comes within the grace time, the scan ends with what could not be done
 * counted lost. So a scan always ends, and says how.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { Assigner, type Assignment, type TriggerSequence } from '../../core/mapping/index.js';
import { reportSchema, type ControllerUpdate, type DoneReport, type Report } from '../../core/messages.js';
import { encodeAssignmentEntry, type EventRoute, type StreamRoutes } from '../../core/assignment-codec.js';
import { forEachEvent, lastOf, RangesBuilder, type EventRanges } from '../../core/ranges.js';
import { readStream, type Keys } from '../../core/redis.js';
import { fieldOf, type Ensemble } from '../../core/registry.js';
import { WorkerLoad } from '../load.js';
import { ScanAccounting, type Outcome } from './accounting.js';
import { foldAssignments, streamIdAfter, type FoldedAssignments, type ScanCheckpoint } from './checkpoint.js';

export interface ScanOptions {
  /** unfinished events a worker may hold */
  credit: number;
  /** and the bytes they may add up to: credit shrinks for large events, as ingesters report their sizes */
  creditBytes: number;
  /** how long to wait for every component to adopt the scan before assigning anyway */
  admissionMs: number;
  /** how long a part that ended may take to come back before its work is given up */
  graceMs: number;
}

/** what a scan needs from its controller */
export interface ScanPort {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly logger: Logger;
  /** the parts alive now */
  ensemble(): Ensemble;
  /** tells every component (and keeps `current` up to date) */
  announce(update: ControllerUpdate): Promise<void>;
  /** a connection of its own for XREAD BLOCK */
  blockingConnection(): Redis;
  /** the scan finished (announced to the components) */
  finished(scan: Scan): void;
}

export interface ScanIdentity {
  id: string;
  token: string;
  sequence: TriggerSequence;
}

/** a running scan found by a restarted controller */
export interface RestoredScan {
  folded: FoldedAssignments;
  checkpoint?: ScanCheckpoint;
}

/** events a worker may hold until the ingesters said how large events are */
const FIRST_CREDIT = 8;
/**
 * Credit grows toward what sizing allows by this factor a round, and shrinks at once. Opened from 8
 * to 1024 events a worker in one round, thousands of events were assigned and encoded together
 * while the events already waiting at the ingesters were held some 25 ms (the p99 at 1 kHz).
 */
const CREDIT_GROWTH = 4;
const FENCE_TIMEOUT_MS = 15_000;
/** an event that this many workers died processing is not handed to another: it is lost */
const POISON_DEATHS = 2;
const TRIM_EVERY_MS = 1000;
const CHECKPOINT_EVERY_MS = 1000;
/** how long new assignments and completions may wait to go out together */
const PUBLISH_EVERY_MS = 5;
/** routes per assignment stream entry */
const MAX_ROUTES = 2000;

interface Member {
  instance: string;
  fencing?: { since: number };
}

/** a dead worker's share of an event that waits for a worker with the tags to join */
interface Orphan {
  event: number;
  from: string;
  needs: string[];
  since: number;
}

export interface ScanProgress {
  last_assigned: number;
  completed_events: number;
  failed_events: number;
  lost_events: number;
  missing_frames: number;
  bad_frames: number;
  total_events: number;
  finished: boolean;
  outcome: Outcome;
}

export class Scan {
  readonly id: string;
  readonly token: string;
  readonly sequence: TriggerSequence;
  readonly assigner: Assigner;
  readonly load = new WorkerLoad();
  readonly accounting: ScanAccounting;
  readonly startedAt: number = Date.now();
  endedAt?: number;
  private readonly blocking: Redis;
  /** components alive when the scan was set, expected to adopt it */
  private readonly expected: Set<string>;
  /** component → the instance that adopted the scan */
  private readonly ready = new Map<string, string>();
  private readonly finishedComponents = new Set<string>();
  /** workers the assigner knows, by name */
  private readonly members = new Map<string, Member>();
  /** where each unfinished event's frames go (worker names), to reroute a dead worker's share */
  private readonly routes = new Map<number, StreamRoutes>();
  /** reducer instance → events whose result it was sent and has not reduced, with their worker */
  private readonly awaitingReduce = new Map<string, Map<number, string>>();
  private readonly deadReducers = new Set<string>();
  /** parts that ended and may come back: field → since */
  private readonly missingParts = new Map<string, number>();
  /** events whose processing a worker died in, and how many times */
  private readonly suspects = new Map<number, number>();
  private orphans: Orphan[] = [];
  /** identity lists by the engine's name lists; renewed when a worker's instance changes */
  private identityLists = new WeakMap<readonly string[], readonly string[]>();
  private readonly forwarded = new Map<string, { events: number; bytes: number }>();
  private readonly pendingRoutes: EventRoute[] = [];
  /** per stream, its entries so far (the slot of its next frame); a copy at every MAX_ROUTES-th pending route */
  private readonly streamSlots: Record<string, number> = {};
  private readonly pendingSlots: Record<string, number>[] = [];
  private readonly pendingReassigned: EventRoute[] = [];
  private readonly pendingCompleted = new RangesBuilder();
  /** what `assigned` needs of each streams record (the engine hands out a few, shared by events routed alike) */
  private readonly streamsFacts = new WeakMap<Assignment['streams'], { names: string[]; involved: boolean }>();
  /** assignment stream entries with the highest event they mention, for trimming */
  private readonly entries: { id: string; maxEvent: number }[] = [];
  private lastTrim = 0;
  private lastCheckpoint = 0;
  private lastPublish = 0;
  /** the report cursor of the last checkpoint written: older reports can go */
  private checkpointedCursor = '0';
  private lastReportId = '0';
  /** after a controller restart: reports up to `counted` are in the checkpoint, up to `routed` in the assignment stream */
  private replay?: { counted: string; routed: string };
  /** after a controller restart: workers of the stream that are no longer alive are looked at in the first round */
  private checkRestoredMembers = false;
  private sized = false;
  /** the credit sizing allows; the assigner's grows toward it (CREDIT_GROWTH) */
  private creditTarget: number;
  private running = true;
  private finishSent = false;
  private admitted = false;
  private readonly admissionDone: Promise<void>;
  private admit!: () => void;
  readonly loop: Promise<void>;

  constructor(identity: ScanIdentity, ensemble: Ensemble, private readonly port: ScanPort, private readonly options: ScanOptions,
    restored?: RestoredScan) {
    this.id = identity.id;
    this.token = identity.token;
    this.sequence = identity.sequence;
    this.assigner = new Assigner(this.sequence, { credit: Math.min(options.credit, FIRST_CREDIT) });
    this.creditTarget = this.assigner.credit;
    this.accounting = new ScanAccounting(this.sequence.totalEvents);
    for (const stream of this.sequence.streams) this.streamSlots[stream] = 0;
    this.expected = new Set([...ensemble.ingesters, ...ensemble.workers, ...(ensemble.reducer ? [ensemble.reducer] : [])].map(fieldOf));
    this.blocking = port.blockingConnection();
    this.admissionDone = new Promise((resolve) => { this.admit = resolve; });
    if (restored) this.restore(restored, ensemble);
    this.loop = this.run();
  }

  /** A restarted controller takes over a running scan from its assignment stream, checkpoint and reports. */
  static async resume(identity: ScanIdentity, ensemble: Ensemble, port: ScanPort, options: ScanOptions): Promise<Scan> {
    const [folded, raw] = await Promise.all([
      foldAssignments(port.redis, port.keys, identity.id),
      port.redis.get(port.keys.checkpoint(identity.id)),
    ]);
    const checkpoint = raw ? JSON.parse(raw) as ScanCheckpoint : undefined;
    return new Scan(identity, ensemble, port, options, { folded, checkpoint });
  }

  private restore({ folded, checkpoint }: RestoredScan, ensemble: Ensemble): void {
    // every part that says it works on this scan adopted it
    for (const entry of [...ensemble.ingesters, ...ensemble.workers, ...(ensemble.reducer ? [ensemble.reducer] : [])]) {
      if (entry.mapping_uuid === this.id) this.ready.set(fieldOf(entry), entry.service_uuid);
    }
    const tags = new Map(ensemble.workers.map((w) => [w.name, w.tags ?? ['generic']]));
    for (const name of folded.outstanding.keys()) this.members.set(name, { instance: folded.instances.get(name)! });
    this.assigner.registerWorkers([...this.members.keys()].map((name) => ({ name, tags: tags.get(name) ?? ['generic'] })));
    this.assigner.restore(folded.frontier, folded.outstanding);
    for (const [event, streams] of folded.routes) this.routes.set(event, streams);
    Object.assign(this.streamSlots, folded.slots);
    this.entries.push(...folded.entries);
    if (checkpoint) {
      (this as { startedAt: number }).startedAt = checkpoint.startedAt;
      this.accounting.restore(checkpoint.accounting);
      for (const [reducer, list] of checkpoint.awaitingReduce) this.awaitingReduce.set(reducer, new Map(list));
      for (const reducer of checkpoint.deadReducers) this.deadReducers.add(reducer);
      for (const [event, deaths] of checkpoint.suspects) this.suspects.set(event, deaths);
      for (const [ingester, counts] of checkpoint.forwarded) this.forwarded.set(ingester, counts);
    }
    const counted = checkpoint?.cursor ?? '0';
    this.replay = { counted, routed: folded.cursor };
    this.lastReportId = streamIdAfter(folded.cursor, counted) ? counted : folded.cursor;
    this.admitted = true;
    this.admit();
    this.sized = true;
    this.sizeCredit();
    this.checkRestoredMembers = true;
    this.port.logger.warn(`resuming scan ${this.id} at event ${folded.frontier} of ${this.sequence.totalEvents}, `
      + `${folded.routes.size} unfinished, after a controller restart (constraints met again bind anew)`);
  }

  /** resolves once every component adopted the scan (or the admission time ran out) */
  async waitForAdmission(): Promise<string[]> {
    await this.admissionDone;
    return [...this.expected].filter((c) => !this.ready.has(c));
  }

  get isFinishSent(): boolean { return this.finishSent; }

  /** every component that adopted the scan and is still alive has finished it */
  get finishedByComponents(): boolean {
    if (!this.finishSent) return false;
    const alive = this.port.ensemble();
    return [...alive.ingesters, ...alive.workers, ...(alive.reducer ? [alive.reducer] : [])]
      .every((c) => this.finishedComponents.has(fieldOf(c)) || this.ready.get(fieldOf(c)) !== c.service_uuid);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop.catch(() => undefined);
  }

  /** ends the scan now (POST /api/v1/stop): what did not end is counted lost */
  async stopNow(): Promise<void> {
    if (this.finishSent) return;
    this.accounting.stopped = true;
    await this.giveUp('the scan was stopped before it ended');
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.step();
      } catch (error) {
        // a scan that stops being driven would hang: log and go on
        this.port.logger.error(`scan ${this.id}: ${(error as Error)?.stack ?? error}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.blocking.disconnect();
  }

  /** one round: read reports, admit, assign as far as credit allows, finish when done */
  private async step(): Promise<void> {
    // while credit grows, the next round follows at once
    const blockMs = this.admitted && this.assigner.credit < this.creditTarget ? 0 : this.pendingRoutes.length || !this.pendingCompleted.isEmpty ? PUBLISH_EVERY_MS : 50;
    const entries = await readStream(this.blocking, this.port.keys.reports(this.id), this.lastReportId, { blockMs, count: 2000 });
    for (const { id, fields } of entries) {
      this.lastReportId = id;
      this.handle(id, fields[1]);
    }
    if (this.finishSent) return;
    const now = Date.now();
    if (!this.admitted && ([...this.expected].every((c) => this.ready.has(c)) || now - this.startedAt > this.options.admissionMs)) {
      this.admitted = true;
      this.admit();
    }
    if (!this.admitted) return;
    if (this.checkRestoredMembers) this.lookAtRestoredMembers();
    this.updateMembers(now);
    if (!this.sized && now - this.startedAt > 1000) this.sizeCredit();
    const credit = this.assigner.credit;
    if (credit !== this.creditTarget) this.assigner.setCredit(Math.min(this.creditTarget, credit * CREDIT_GROWTH));
    for (const assignment of this.assigner.assign()) this.assigned(assignment);
    const checkpoint = now - this.lastCheckpoint > CHECKPOINT_EVERY_MS;
    if (checkpoint || this.publishDue(now)) await this.publish(checkpoint);
    await this.checkGrace(now);
    if (this.finishSent) return;
    if (this.assigner.completedEvents >= this.sequence.totalEvents) await this.finish();
    else if (now - this.lastTrim > TRIM_EVERY_MS) await this.trim(now);
  }

  /**
   * One report. After a controller restart, reports already reflected in the assignment stream are
   * read again for their counts only, and those already in the checkpoint for their routing only.
   */
  private handle(id: string, raw: string): void {
    let report: Report;
    try {
      report = reportSchema.parse(JSON.parse(raw));
    } catch (error) {
      this.port.logger.warn(`ignoring a malformed report: ${(error as Error).message}`);
      return;
    }
    const counting = !this.replay || streamIdAfter(id, this.replay.counted);
    const routing = !this.replay || streamIdAfter(id, this.replay.routed);
    if (this.replay && counting && routing) this.replay = undefined;
    switch (report.kind) {
      case 'ready':
        this.ready.set(report.component, report.instance);
        this.missingParts.delete(report.component);
        break;
      case 'done': this.workerProgress(report, counting, routing); break;
      case 'reduced': {
        for (const [sender, ranges] of Object.entries(report.events)) {
          const worker = this.memberOf(sender);
          if (!worker) continue;
          // results are mostly reduced before their worker's report of sending them: nothing awaits them
          const awaiting = this.awaitingReduce.get(report.instance);
          if (counting && awaiting?.size) forEachEvent(ranges, (event) => awaiting.delete(event));
          if (routing) this.completedRanges(worker, ranges);
        }
        if (counting) {
          for (const [event, sender, reason] of report.failed) this.accounting.failed(event, `reducer (result of ${sender.split('/')[0]})`, reason);
          this.accounting.refused = Math.max(this.accounting.refused, report.refused);
        }
        break;
      }
      case 'fenced': if (routing) this.fenced(report.sender); break;
      case 'ingested':
        if (!counting) break;
        this.forwarded.set(report.ingester, { events: report.forwarded, bytes: report.bytes });
        this.sizeCredit();
        for (const [stream, event, reason] of report.bad) this.accounting.bad.add({ event, component: `${report.ingester}/${stream}`, reason });
        for (const [stream, reason] of report.skipped) this.accounting.skipped.add({ event: 0, component: `${report.ingester}/${stream}`, reason });
        break;
      case 'finished':
        if (this.ready.get(report.component) === report.instance) this.finishedComponents.add(report.component);
        break;
    }
  }

  /** the member a data-plane sender (`name/instance`) stands for, if it is the one in the scan */
  private memberOf(sender: string): string | undefined {
    const slash = sender.lastIndexOf('/');
    const name = sender.slice(0, slash);
    return this.members.get(name)?.instance === sender.slice(slash + 1) ? name : undefined;
  }

  private workerProgress(report: DoneReport, counting: boolean, routing: boolean): void {
    const worker = report.worker;
    // a report of an instance the scan gave up on: its events were redone or counted
    if (this.members.get(worker)?.instance !== report.instance) return;
    const ended: number[] = [];
    let last = lastOf(report.events);
    for (const [event, reason] of report.failed) {
      if (counting) this.accounting.failed(event, worker, reason);
      ended.push(event);
      last = Math.max(last, event);
    }
    if (counting) for (const [event, stream, reason] of report.missing) this.accounting.missing.add({ event, component: `${worker}/${stream}`, reason });
    for (const [reducer, ranges] of Object.entries(report.sent)) {
      last = Math.max(last, lastOf(ranges));
      forEachEvent(ranges, (event) => {
        if (!this.assigner.isOutstanding(worker, event)) return;   // already reduced
        if (this.deadReducers.has(reducer)) {
          if (counting) this.accounting.lost(event, worker, 'its result went to a reducer that ended before reducing it');
          ended.push(event);
        } else if (counting) {
          let awaiting = this.awaitingReduce.get(reducer);
          if (!awaiting) this.awaitingReduce.set(reducer, awaiting = new Map());
          awaiting.set(event, worker);
        }
      });
    }
    if (routing) {
      this.completedRanges(worker, report.events);
      this.completed(worker, ended);
    }
    if (report.times.events && Number.isFinite(last)) this.load.record(worker, last, report.times);
  }

  private completed(worker: string, events: number[]): void {
    for (const event of events) this.completedOne(worker, event);
  }

  /** as `completed`, for a report's runs of events (without a list of them) */
  private completedRanges(worker: string, ranges: EventRanges): void {
    forEachEvent(ranges, (event) => this.completedOne(worker, event));
  }

  private completedOne(worker: string, event: number): void {
    if (this.assigner.completeEvent(worker, event)) this.ended(event);
  }

  /** an event ended: the ingesters may free its frames */
  private ended(event: number): void {
    this.routes.delete(event);
    this.pendingCompleted.add(event);
  }

  /** a new assignment: an event that went to some worker is unfinished until they report it, one that went to none ended */
  private assigned(assignment: Assignment): void {
    const { event, streams } = assignment;
    let facts = this.streamsFacts.get(streams);
    if (!facts) {
      const names = Object.keys(streams);
      this.streamsFacts.set(streams, facts = { names, involved: names.some((stream) => streams[stream].length > 0) });
    }
    const { names, involved } = facts;
    if (involved) this.routes.set(event, streams);
    else this.pendingCompleted.add(event);
    if (this.pendingRoutes.length % MAX_ROUTES === 0) this.pendingSlots.push({ ...this.streamSlots });
    this.pendingRoutes.push(assignment);
    for (const stream of names) this.streamSlots[stream] = (this.streamSlots[stream] ?? 0) + 1;
  }

  /** credit from the mean event size: the sum over ingesters of their mean forwarded bytes */
  private sizeCredit(): void {
    let eventBytes = 0;
    for (const { events, bytes } of this.forwarded.values()) if (events) eventBytes += bytes / events;
    this.sized ||= eventBytes > 0 || Date.now() - this.startedAt > 1000;
    if (!this.sized) return;
    const { credit, creditBytes } = this.options;
    this.creditTarget = eventBytes ? Math.min(credit, Math.max(1, Math.floor(creditBytes / eventBytes))) : credit;
    if (this.creditTarget < this.assigner.credit) this.assigner.setCredit(this.creditTarget);
  }

  /** workers whose running instance adopted the scan join it; a worker restarted under its name waits for its predecessor's fence */
  private updateMembers(now: number): void {
    const joining = [];
    for (const w of this.port.ensemble().workers) {
      if (this.ready.get(`worker:${w.name}`) !== w.service_uuid) continue;
      const member = this.members.get(w.name);
      if (member && member.instance !== w.service_uuid) {
        // the old instance ended without the liveness check seeing it yet: a restart under the same name
        if (!member.fencing) this.partEnded(`worker:${w.name}`, member.instance, 'restarted');
        continue;
      }
      if (!member) {
        this.members.set(w.name, { instance: w.service_uuid });
        this.identityLists = new WeakMap();
      }
      joining.push({ name: w.name, tags: w.tags ?? ['generic'] });
    }
    this.assigner.registerWorkers(joining);
    if (joining.length && this.orphans.length) this.orphans = this.orphans.filter((orphan) => !this.redo(orphan));
    for (const [name, member] of this.members) {
      if (member.fencing && now - member.fencing.since > FENCE_TIMEOUT_MS) {
        this.port.logger.warn(`scan ${this.id}: the reducer did not answer the fence of ${name} in ${FENCE_TIMEOUT_MS / 1000} s; taking its results as not reduced`);
        this.fenced(`${name}/${member.instance}`);
      }
    }
  }

  /** workers the assignment stream names that are no longer alive: they ended while no controller ran */
  private lookAtRestoredMembers(): void {
    this.checkRestoredMembers = false;
    const alive = new Map(this.port.ensemble().workers.map((w) => [w.name, w.service_uuid]));
    for (const [name, member] of this.members) {
      if (alive.get(name) === member.instance) continue;
      this.ready.set(`worker:${name}`, member.instance);
      this.partEnded(`worker:${name}`, member.instance, 'was gone when the controller restarted');
    }
    const reducer = this.port.ensemble().reducer?.service_uuid;
    for (const instance of this.awaitingReduce.keys()) {
      if (instance === reducer) continue;
      this.ready.set('reducer:reducer', instance);
      this.partEnded('reducer:reducer', instance, 'was gone when the controller restarted');
    }
  }

  /** A part ended (from the liveness check, or its process exit); `processing`: the event its user code was in. */
  partEnded(field: string, instance: string, how: string, processing?: number): void {
    if (this.finishSent || this.ready.get(field) !== instance) return;
    const [kind, name] = [field.slice(0, field.indexOf(':')), field.slice(field.indexOf(':') + 1)];
    const { logger } = this.port;
    if (kind === 'worker') {
      const member = this.members.get(name);
      if (member?.instance !== instance || member.fencing) return;
      // its last beat said which event it was in; failing that, its oldest unfinished event is the
      // likeliest. A worker that stopped cleanly (left) blames nothing
      const known = processing !== undefined && this.assigner.isOutstanding(name, processing) ? processing : undefined;
      const suspect = how === 'left' ? undefined : known ?? this.assigner.oldestOutstanding(name);
      if (suspect !== undefined) this.suspects.set(suspect, (this.suspects.get(suspect) ?? 0) + 1);
      logger.error(`worker ${name} ${how} during scan ${this.id}${known === undefined ? '' : ` while processing event ${known}`}; `
        + `its unfinished events (${this.assigner.outstanding(name)}) go to other workers`);
      member.fencing = { since: Date.now() };
      this.assigner.suspend(name);
      void this.port.announce({ type: 'fence', scan: this.id, instances: [`${field}/${instance}`] })
        .catch((e) => logger.error(`fencing ${name}: ${e}`));
    } else if (kind === 'reducer') {
      this.deadReducers.add(instance);
      const awaiting = this.awaitingReduce.get(instance);
      this.awaitingReduce.delete(instance);
      logger.error(`the reducer ${how} during scan ${this.id}; ${awaiting?.size ?? 0} results it had not reduced are lost`);
      for (const [event, worker] of awaiting ?? []) {
        this.accounting.lost(event, 'reducer', 'the reducer ended before reducing its result');
        this.completed(worker, [event]);
      }
      this.missingParts.set(field, Date.now());
    } else {
      logger.error(`${kind} ${name} ${how} during scan ${this.id}; waiting up to ${this.options.graceMs / 1000} s for it to come back`);
      this.missingParts.set(field, Date.now());
    }
    this.ready.delete(field);
  }

  /** the reducer took no more of this sender's results: its other unfinished events go to other workers */
  private fenced(sender: string): void {
    const name = sender.slice(0, sender.lastIndexOf('/'));
    const member = this.members.get(name);
    if (!member?.fencing || `${name}/${member.instance}` !== sender) return;
    this.members.delete(name);
    this.identityLists = new WeakMap();
    for (const awaiting of this.awaitingReduce.values()) for (const [event, worker] of awaiting) if (worker === name) awaiting.delete(event);
    const outcome = { moved: 0, waiting: 0, lost: 0 };
    for (const event of this.assigner.takeOutstanding(name)) {
      const route = this.routes.get(event);
      const share = route ? Object.keys(route).filter((s) => route[s].includes(name)) : [];
      const needs = this.assigner.replacementNeeds(event, share);
      if (needs === null) {
        // only "every worker with these tags": nobody redoes it
        if (this.assigner.releaseShare(event)) this.ended(event);
      } else if ((this.suspects.get(event) ?? 0) >= POISON_DEATHS) {
        this.lose(event, name, `${this.suspects.get(event)} workers died while processing it`);
        outcome.lost += 1;
      } else if (this.redo({ event, from: name, needs, since: Date.now() })) {
        outcome.moved += 1;
      } else {
        this.orphans.push({ event, from: name, needs, since: Date.now() });
        outcome.waiting += 1;
      }
    }
    this.port.logger.warn(`scan ${this.id}: ${name}'s unfinished events: ${outcome.moved} went to other workers, `
      + `${outcome.waiting} wait for a worker, ${outcome.lost} lost`);
  }

  /** hands a dead worker's share of an event to a live worker with the tags; false when there is none */
  private redo(orphan: Orphan): boolean {
    const busy = new Set([...this.members].filter(([, m]) => m.fencing).map(([n]) => n));
    const replacement = this.assigner.chooseReplacement(orphan.needs, busy);
    const route = this.routes.get(orphan.event);
    if (!replacement || !route) return false;
    this.assigner.adopt(orphan.event, replacement);
    const rerouted: StreamRoutes = {};
    for (const [stream, workers] of Object.entries(route)) {
      rerouted[stream] = workers.includes(orphan.from) ? [...new Set(workers.map((w) => (w === orphan.from ? replacement : w)))].sort() : workers;
    }
    this.routes.set(orphan.event, rerouted);
    this.pendingReassigned.push({ event: orphan.event, streams: rerouted });
    return true;
  }

  private lose(event: number, worker: string, reason: string): void {
    this.accounting.lost(event, worker, reason);
    if (this.assigner.releaseShare(event)) this.ended(event);
  }

  /** parts that did not come back in time, and events no worker came for: their work is given up */
  private async checkGrace(now: number): Promise<void> {
    const expired = this.orphans.filter((o) => now - o.since >= this.options.graceMs);
    if (expired.length) {
      this.orphans = this.orphans.filter((o) => now - o.since < this.options.graceMs);
      for (const orphan of expired) {
        this.lose(orphan.event, orphan.from, `worker ${orphan.from} ended and no worker with the tags [${orphan.needs.join(', ')}] came within ${this.options.graceMs / 1000} s`);
      }
    }
    for (const [field, since] of this.missingParts) {
      if (now - since < this.options.graceMs) continue;
      const back = field.startsWith('reducer:') ? !!this.port.ensemble().reducer && [...this.ready.keys()].includes(field) : this.ready.has(field);
      if (back) {
        this.missingParts.delete(field);
        continue;
      }
      await this.giveUp(`${field.replace(':', ' ')} ended and did not come back within ${this.options.graceMs / 1000} s`);
      return;
    }
  }

  /** ends the scan: every event that has not ended is lost, with this reason */
  private async giveUp(reason: string): Promise<void> {
    this.accounting.endReason = reason;
    for (const orphan of this.orphans.splice(0)) this.lose(orphan.event, orphan.from, reason);
    for (const [worker, events] of this.assigner.outstandingByWorker()) {
      for (const event of events) this.accounting.lost(event, worker, reason);
      this.completed(worker, events);
    }
    this.accounting.lostUnassigned(this.assigner.assignedEvents, reason);
    this.port.logger.error(`scan ${this.id}: ${reason}`);
    await this.finish();
  }

  private async finish(): Promise<void> {
    if (this.finishSent) return;
    this.finishSent = true;
    this.endedAt = Date.now();
    try {
      await this.publish();
      await this.port.announce({ type: 'finish', scan: this.id });
    } catch (error) {
      this.finishSent = false;   // the next round tries again
      throw error;
    }
    await this.port.redis.pexpire(this.port.keys.assignments(this.id), 600_000).catch(() => undefined);
    this.port.finished(this);
  }

  /**
   * Whether what is pending should go out now. Assignments run ahead of the detector by the credit,
   * so they may wait a few milliseconds and go out together (each report of 64 completions used to
   * cost an entry and a Redis transaction); reassignments, and a worker running short of work, not.
   */
  private publishDue(now: number): boolean {
    // while credit grows, each step's routes go out at once: the first are for events already waiting
    if (this.pendingReassigned.length || (this.pendingRoutes.length && this.assigner.credit < this.creditTarget)) return true;
    if (!this.pendingRoutes.length && this.pendingCompleted.isEmpty) return false;
    if (now - this.lastPublish >= PUBLISH_EVERY_MS) return true;
    const low = this.assigner.credit / 4;
    for (const [name, member] of this.members) if (!member.fencing && this.assigner.outstanding(name) < low) return true;
    return false;
  }

  /**
   * New routes, reassignments and completions, in one entry of the assignment stream, with the report
   * cursor they reflect; with `checkpoint`, the counts too, in the same transaction.
   */
  private async publish(checkpoint = false): Promise<void> {
    if (!checkpoint && !this.pendingRoutes.length && !this.pendingReassigned.length && this.pendingCompleted.isEmpty) return;
    const routes = this.pendingRoutes.splice(0);
    const reassigned = this.pendingReassigned.splice(0);
    const completedRanges = this.pendingCompleted.take();
    this.lastPublish = Date.now();
    const slots = this.pendingSlots.splice(0);
    const entries: { maxEvent: number; json: string }[] = [];
    const identities = (names: readonly string[]) => this.identitiesOf(names);
    for (let i = 0; i < Math.max(1, routes.length); i += MAX_ROUTES) {
      const chunk = routes.slice(i, i + MAX_ROUTES);
      const first = i === 0;
      const json = encodeAssignmentEntry({
        routes: chunk,
        slots: chunk.length ? slots[i / MAX_ROUTES] : {},
        reassigned: first ? reassigned : [],
        completed: first ? completedRanges : [],
        cursor: this.lastReportId,
        frontier: { event: this.assigner.assignedEvents, slots: this.streamSlots },
      }, identities);
      let maxEvent = chunk.at(-1)?.event ?? -1;
      if (first) {
        for (const r of reassigned) maxEvent = Math.max(maxEvent, r.event);
        maxEvent = Math.max(maxEvent, lastOf(completedRanges));
      }
      entries.push({ maxEvent, json });
    }
    const ids = await this.write(entries.map((e) => e.json), checkpoint);
    ids.forEach((id, i) => { if (id) this.entries.push({ id, maxEvent: entries[i].maxEvent }); });
  }

  /**
   * Adds entries to the assignment stream (and with `checkpoint` the counts), all or none; returns
   * the ids of the entries. One entry alone is atomic as it is: it goes without a transaction, which
   * costs two commands more and a reply each, and this runs every few milliseconds.
   */
  private async write(entries: string[], checkpoint: boolean): Promise<(string | null)[]> {
    const key = this.port.keys.assignments(this.id);
    if (entries.length === 1 && !checkpoint) return [await this.port.redis.xadd(key, '*', 'd', entries[0])];
    const transaction = this.port.redis.multi();
    for (const json of entries) transaction.xadd(key, '*', 'd', json);
    const cursor = this.lastReportId;
    if (checkpoint) {
      this.lastCheckpoint = Date.now();
      transaction.set(this.port.keys.checkpoint(this.id), JSON.stringify(this.checkpoint()));
    }
    const results = await transaction.exec();
    if (checkpoint) this.checkpointedCursor = cursor;
    return entries.map((_, i) => (results?.[i]?.[0] ? null : results?.[i]?.[1] as string));
  }

  /**
   * The data-plane identities (`name/instance`) of a list of worker names, one array per list the
   * engine hands out (it reuses its frozen lists), so that routes of consecutive events share them
   */
  private identitiesOf(names: readonly string[]): readonly string[] {
    let identities = this.identityLists.get(names);
    if (!identities) {
      identities = Object.freeze(names.map((w) => `${w}/${this.members.get(w)?.instance ?? 'gone'}`));
      this.identityLists.set(names, identities);
    }
    return identities;
  }

  private checkpoint(): ScanCheckpoint {
    return {
      cursor: this.lastReportId,
      startedAt: this.startedAt,
      accounting: this.accounting.snapshot(),
      awaitingReduce: [...this.awaitingReduce].map(([reducer, events]) => [reducer, [...events]]),
      deadReducers: [...this.deadReducers],
      suspects: [...this.suspects],
      forwarded: [...this.forwarded],
    };
  }

  /** drops assignment entries that only concern ended events, and reports the last checkpoint reflects */
  private async trim(now: number): Promise<void> {
    this.lastTrim = now;
    const lowest = this.assigner.lowestIncomplete();
    let keepFrom = 0;
    // the newest entry stays: it tells a restarted controller the frontier and the report cursor
    while (keepFrom < this.entries.length - 1 && this.entries[keepFrom].maxEvent < lowest) keepFrom++;
    const minId = keepFrom ? this.entries[keepFrom]?.id : undefined;
    this.entries.splice(0, keepFrom);
    const pipeline = this.port.redis.pipeline();
    if (minId) pipeline.xtrim(this.port.keys.assignments(this.id), 'MINID', minId);
    if (!this.replay && this.checkpointedCursor !== '0') pipeline.xtrim(this.port.keys.reports(this.id), 'MINID', this.checkpointedCursor);
    await pipeline.exec();
  }

  progress(): ScanProgress {
    const ended = this.assigner.completedEvents;
    return {
      last_assigned: this.assigner.assignedEvents,
      completed_events: this.accounting.completedEvents(ended),
      failed_events: this.accounting.failedEvents,
      lost_events: this.accounting.lostEvents,
      missing_frames: this.accounting.missing.total,
      bad_frames: this.accounting.bad.total,
      total_events: this.sequence.totalEvents,
      finished: this.finishedByComponents,
      outcome: this.accounting.outcome(this.finishSent),
    };
  }

  /** `details`: the latest failures, losses, missing and bad frames with their events, and per-event times */
  status(details: boolean): Record<string, unknown> {
    const a = this.accounting;
    const status: Record<string, unknown> = {
      mapping_uuid: this.id,
      ...this.progress(),
      ...(a.endReason ? { end_reason: a.endReason } : {}),
      assignment: this.assigner.bindings().map((b) => (Object.keys(b).length > 100 ? { truncated: `${Object.keys(b).length} bindings` } : b)),
      blocked: this.finishSent ? null : this.assigner.blockedReason(),
      waiting_for: [...this.expected].filter((c) => !this.ready.has(c)),
      missing_parts: [...this.missingParts.keys()],
      workers: Object.fromEntries([...this.members].map(([name, m]) => [name, { instance: m.instance, unfinished: this.assigner.outstanding(name), ...(m.fencing ? { state: 'fencing' } : {}) }])),
      forwarded: Object.fromEntries([...this.forwarded].map(([ingester, { events }]) => [ingester, events])),
      credit: this.assigner.credit,
      failed_reasons: a.failures.reasons(),
      lost_reasons: a.losses.reasons(),
      missing_reasons: a.missing.reasons(),
      bad_reasons: a.bad.reasons(),
      skipped_frames: a.skipped.total,
      skipped_reasons: a.skipped.reasons(),
      refused_messages: a.refused,
      finished_components: [...this.finishedComponents],
    };
    if (details) {
      Object.assign(status, {
        failed_event_list: a.failures.tail(1000),
        lost_event_list: a.losses.tail(1000),
        missing_frame_list: a.missing.tail(1000),
        bad_frame_list: a.bad.tail(1000),
        skipped_frame_list: a.skipped.tail(1000),
        processing_times: this.load.processingTimes(),
      });
    }
    return status;
  }
}
