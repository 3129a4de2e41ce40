/**
 * The credit-based assignment engine: walks a TriggerSequence event by event and gives each event
 * to real workers, never letting a worker hold more than `credit` unfinished events.
 *
 * The frontier moves strictly in event order. A constraint is bound, when the frontier first
 * meets it in a part instance, to the worker with the needed tags and free credit that holds the
 * fewest unfinished events (ties: the one bound least recently), and keeps that worker for the
 * rest of the instance. An "all" slot means every worker registered with the tags at the moment
 * the event is assigned. Only the frontier's part instance and those with unfinished events are
 * kept, so memory is O(part size + outstanding events) whatever the sequence length.
 *
 * A worker that dies is first suspended (it gets nothing new, its bindings are released), then
 * its unfinished events are taken from it: each goes to another worker (`adopt`) or is given up
 * (`releaseShare`), as the controller decides.
 */
import type { WorkerSlot } from './admission.js';
import { EventQueue } from './event-queue.js';
import type { Part, TagSet } from './part.js';
import { pyList, pyStr } from './pyrepr.js';
import type { TriggerSequence } from './sequence.js';

export interface Assignment {
  event: number;
  /**
   * stream absent: no frame; []: discard; else the sorted names of the workers that get the frame
   * (frozen lists, shared between events; events routed alike mostly share the record too)
   */
  streams: Readonly<Record<string, readonly string[]>>;
}

/** streams records kept for reuse: enough for events taking turns among this many workers */
const RECENT_STREAMS = 8;

export interface AssignerOptions {
  /** most unfinished events one worker may hold */
  credit: number;
}

/** Which workers may take a new constraint of the frontier event, in order of preference. */
type Choice = 'new to event' | 'in event, unchosen' | 'in event';

interface WorkerState {
  readonly name: string;
  /** `[name]`, frozen: the stream list of every frame only this worker gets */
  readonly alone: readonly string[];
  tags: ReadonlySet<string>;
  /** gets no new events: the controller is finding out what became of its unfinished ones */
  suspended: boolean;
  readonly outstanding: EventQueue;
  /** value of the bind counter when this worker last got a constraint; 0 = never */
  lastBound: number;
  /** planning round in which this worker was last counted for the frontier event */
  mark: number;
}

/**
 * A list refilled for every event: emptying it only resets a count (setting an array's length is a
 * runtime call, which was a tenth of the planning); what lies past the count is stale
 */
class ScratchList<T> {
  private readonly items: T[] = [];
  length = 0;

  at(i: number): T { return this.items[i]!; }
  push(item: T): void { this.items[this.length++] = item; }
  clear(): void { this.length = 0; }

  includes(item: T): boolean {
    for (let i = 0; i < this.length; i++) if (this.items[i] === item) return true;
    return false;
  }
}

/** Who gets the frontier event: made by plan(), carried out by commit(); one, reused for every event. */
interface EventPlan {
  /** every worker the event goes to, once each */
  readonly involved: ScratchList<WorkerState>;
  /** constraint slots first met at this event, and the workers chosen for them */
  readonly newSlots: ScratchList<number>;
  readonly newWorkers: ScratchList<WorkerState>;
}

interface PartInstance {
  readonly part: Part;
  /** global number of its first event */
  readonly start: number;
  /** bound worker per constraint slot of the part */
  readonly bindings: (WorkerState | undefined)[];
  /** its events that went to some worker and are not complete yet */
  pending: number;
}

export class Assigner {
  private creditInForce: number;
  private readonly workers = new Map<string, WorkerState>();
  private readonly matchCache = new Map<TagSet, { workers: WorkerState[]; names: readonly string[] }>();
  /** events lost by workers that setWorkers removed, until dropWorker asks for them */
  private readonly lostOnRemoval = new Map<string, number[]>();
  /** unfinished events sent to several workers → number of workers still working on them */
  private readonly remaining = new Map<number, number>();
  /** instances with unfinished events, in order; the frontier's instance is last */
  private readonly active: PartInstance[] = [];
  private current: PartInstance | null = null;
  private sequenceIndex = 0;
  private local = 0;
  private frontier = 0;
  private completed = 0;
  private bindCounter = 0;
  private planRound = 0;
  private readonly eventPlan: EventPlan = { involved: new ScratchList(), newSlots: new ScratchList(), newWorkers: new ScratchList() };
  /** streams records of recent assignments, newest first, with their number of streams: an event routed alike shares one */
  private readonly recentStreams: { record: Readonly<Record<string, readonly string[]>>; count: number }[] = [];
  /** scratch: the frontier event's list per stream of its part, and whether one of them was made for it alone */
  private readonly streamLists: (readonly string[] | undefined)[] = [];
  private unionMade = false;

  constructor(private readonly seq: TriggerSequence, opts: AssignerOptions) {
    this.creditInForce = Assigner.checkedCredit(opts.credit);
    this.openInstance();
  }

  private static checkedCredit(credit: number): number {
    if (!Number.isSafeInteger(credit) || credit < 1) throw new RangeError(`credit must be a positive integer, got ${credit}`);
    return credit;
  }

  /** Changes the unfinished events a worker may hold; one holding more gets nothing until below. */
  setCredit(credit: number): void {
    this.creditInForce = Assigner.checkedCredit(credit);
  }

  /** the unfinished events a worker may hold */
  get credit(): number {
    return this.creditInForce;
  }

  /** events assigned so far (the frontier; `last_assigned` of /api/v1/progress) */
  get assignedEvents(): number {
    return this.frontier;
  }

  get completedEvents(): number {
    return this.completed;
  }

  outstanding(worker: string): number {
    return this.workers.get(worker)?.outstanding.size ?? 0;
  }

  isComplete(event: number): boolean {
    if (event >= this.frontier || this.remaining.has(event)) return false;
    for (const worker of this.workers.values()) if (worker.outstanding.has(event)) return false;
    return true;
  }

  /**
   * Sets the registered workers. A worker no longer listed is dropped as by dropWorker (its
   * bindings released, its unfinished events no longer waited for); returns the names removed,
   * and dropWorker(name) then returns the events each of them lost.
   */
  setWorkers(slots: WorkerSlot[]): string[] {
    const listed = new Set<string>();
    for (const slot of slots) {
      if (listed.has(slot.name)) throw new Error(`worker ${pyStr(slot.name)} is listed twice`);
      listed.add(slot.name);
    }
    const removed = [...this.workers.keys()].filter((name) => !listed.has(name));
    for (const name of removed) {
      this.lostOnRemoval.set(name, [...(this.lostOnRemoval.get(name) ?? []), ...this.removeWorker(name)]);
    }
    this.registerWorkers(slots);
    return removed;
  }

  /**
   * Adds workers, or updates the tags of known ones; workers not listed are left as they are. The
   * controller registers its workers every round: only a change forgets who matches which tags.
   */
  registerWorkers(slots: WorkerSlot[]): void {
    let changed = false;
    for (const slot of slots) {
      const known = this.workers.get(slot.name);
      if (known) {
        if (known.tags.size === new Set(slot.tags).size && slot.tags.every((tag) => known.tags.has(tag))) continue;
        known.tags = new Set(slot.tags);
      } else {
        this.workers.set(slot.name, { name: slot.name, alone: Object.freeze([slot.name]), tags: new Set(slot.tags), suspended: false, outstanding: new EventQueue(), lastBound: 0, mark: 0 });
      }
      changed = true;
    }
    if (changed) this.matchCache.clear();
  }

  hasWorker(name: string): boolean {
    return this.workers.has(name);
  }

  /**
   * Puts a fresh assigner where a running scan stood (a restarted controller): `frontier` events
   * assigned, these unfinished per registered worker. Bindings are not restored: constraints met
   * again after the restart bind anew.
   */
  restore(frontier: number, outstanding: Map<string, number[]>): void {
    const shares = new Map<number, number>();
    for (const events of outstanding.values()) for (const event of events) shares.set(event, (shares.get(event) ?? 0) + 1);
    const unfinished = [...shares.keys()].sort((a, b) => a - b);
    this.active.length = 0;
    this.current = null;
    this.sequenceIndex = this.seq.playedLength;
    this.local = 0;
    // runs of repeated parts are walked by arithmetic: only instances with unfinished events, and the frontier's, exist
    let start = 0;
    let played = 0;
    let next = 0;
    const open = (part: Part, instanceStart: number, index: number, pending: number, atFrontier: boolean) => {
      const instance: PartInstance = { part, start: instanceStart, bindings: [], pending };
      this.active.push(instance);
      if (!atFrontier) return;
      this.current = instance;
      this.sequenceIndex = index;
      this.local = frontier - instanceStart;
    };
    for (const { part, repeat } of this.seq.playedRuns) {
      const end = start + part.length * repeat;
      while (next < unfinished.length && unfinished[next]! < end) {
        const k = Math.floor((unfinished[next]! - start) / part.length);
        const instanceStart = start + k * part.length;
        let pending = 0;
        while (next < unfinished.length && unfinished[next]! < instanceStart + part.length) { pending++; next++; }
        const atFrontier = frontier >= instanceStart && frontier < instanceStart + part.length;
        open(part, instanceStart, played + k, pending, atFrontier);
        if (atFrontier) break;
      }
      if (this.current) break;
      if (frontier >= start && frontier < end) {
        const k = Math.floor((frontier - start) / part.length);
        open(part, start + k * part.length, played + k, 0, true);
        break;
      }
      start = end;
      played += repeat;
    }
    this.frontier = frontier;
    this.remaining.clear();
    for (const [event, count] of shares) if (count > 1) this.remaining.set(event, count);
    this.completed = frontier - unfinished.length;
    for (const [name, events] of outstanding) {
      const worker = this.workers.get(name);
      if (!worker) throw new Error(`restore: worker ${pyStr(name)} is not registered`);
      worker.outstanding.clear();
      for (const event of [...events].sort((a, b) => a - b)) worker.outstanding.push(event);
    }
  }

  /** A worker gets no new events from now on; constraints bound to it bind anew at their next event. */
  suspend(name: string): void {
    const worker = this.workers.get(name);
    if (!worker) return;
    worker.suspended = true;
    this.unbind(worker);
    this.matchCache.clear();
  }

  /** Removes a worker; returns its unfinished events, still unfinished: adopt or releaseShare each. */
  takeOutstanding(name: string): number[] {
    const worker = this.workers.get(name);
    if (!worker) return [];
    this.workers.delete(name);
    this.unbind(worker);
    this.matchCache.clear();
    const events = worker.outstanding.values();
    worker.outstanding.clear();
    return events;
  }

  /** Another worker takes over an unfinished event (a share of it that a removed worker held). */
  adopt(event: number, name: string): void {
    this.workers.get(name)!.outstanding.insert(event);
  }

  /** A share of an unfinished event is given up; true when that completed the event. */
  releaseShare(event: number): boolean {
    return this.release(event);
  }

  oldestOutstanding(name: string): number | undefined {
    return this.workers.get(name)?.outstanding.first();
  }

  isOutstanding(name: string, event: number): boolean {
    return this.workers.get(name)?.outstanding.has(event) ?? false;
  }

  /** the lowest event not yet complete (the frontier when every assigned event is) */
  lowestIncomplete(): number {
    let lowest = this.frontier;
    for (const worker of this.workers.values()) lowest = Math.min(lowest, worker.outstanding.first() ?? lowest);
    return lowest;
  }

  /** every worker's unfinished events */
  outstandingByWorker(): Map<string, number[]> {
    return new Map([...this.workers].map(([name, worker]) => [name, worker.outstanding.values()]));
  }

  /**
   * The tags a worker must have to redo a removed worker's share of an event, from the virtual
   * workers of the streams that share held; null when the share was only "every worker with these
   * tags" (nobody needs to redo it).
   */
  replacementNeeds(event: number, streams: readonly string[]): string[] | null {
    const instance = this.instanceOf(event);
    if (!instance) return null;
    const local = event - instance.start;
    const tags = new Set<string>();
    let constrained = false;
    for (const stream of streams) {
      const s = instance.part.streams.indexOf(stream);
      const entry = s < 0 ? null : instance.part.entry(s, local);
      for (const vw of entry ?? []) {
        if (vw.slot < 0) continue;
        constrained = true;
        for (const tag of instance.part.constraintTagsOf(vw.slot).tags) tags.add(tag);
      }
    }
    return constrained ? [...tags] : null;
  }

  /** the least loaded worker, not suspended and not `excluded`, having every tag; undefined if none */
  chooseReplacement(tags: readonly string[], excluded: ReadonlySet<string> = new Set()): string | undefined {
    let best: WorkerState | undefined;
    for (const worker of this.workers.values()) {
      if (worker.suspended || excluded.has(worker.name) || !tags.every((tag) => worker.tags.has(tag))) continue;
      if (!best || worker.outstanding.size < best.outstanding.size) best = worker;
    }
    return best?.name;
  }

  private instanceOf(event: number): PartInstance | undefined {
    for (let i = this.active.length - 1; i >= 0; i--) {
      const instance = this.active[i]!;
      if (instance.start <= event) return event < instance.start + instance.part.length ? instance : undefined;
    }
    return undefined;
  }

  private unbind(worker: WorkerState): void {
    for (const instance of this.active) {
      instance.bindings.forEach((bound, slot) => {
        if (bound === worker) instance.bindings[slot] = undefined;
      });
    }
  }

  /**
   * A worker died: it is unregistered, its constraint bindings are released (later events of those
   * constraints bind anew) and its unfinished events no longer wait for it. Returns those events.
   */
  dropWorker(name: string): number[] {
    const lost = this.lostOnRemoval.get(name) ?? [];
    this.lostOnRemoval.delete(name);
    if (this.workers.has(name)) lost.push(...this.removeWorker(name));
    return lost.sort((a, b) => a - b);
  }

  /** Advances the frontier as far as credits allow; returns the newly assigned events in order. */
  assign(): Assignment[] {
    const assigned: Assignment[] = [];
    while (this.current !== null) {
      const plan = this.plan();
      if (typeof plan === 'string') break;
      assigned.push(this.commit(plan));
    }
    return assigned;
  }

  /** A worker finished events: returns its credit; returns the events now complete. */
  complete(worker: string, events: number[]): number[] {
    return events.filter((event) => this.completeEvent(worker, event));
  }

  /** A worker finished one event; true when that completed the event. */
  completeEvent(worker: string, event: number): boolean {
    const state = this.workers.get(worker);
    // a late report of a dropped worker: its events were already released
    return state !== undefined && state.outstanding.delete(event) && this.release(event);
  }

  /** Per part instance still active: constraint → worker (`assignment` of /api/v1/status). */
  bindings(): Record<string, string>[] {
    return this.active.map((instance) => {
      const out: Record<string, string> = {};
      instance.bindings.forEach((worker, slot) => {
        if (worker) out[String(instance.part.constraintOf(slot))] = worker.name;
      });
      return out;
    });
  }

  /** Why the frontier cannot advance now; null when it can or when every event is assigned. */
  blockedReason(): string | null {
    if (this.current === null) return null;
    const plan = this.plan();
    return typeof plan === 'string' ? plan : null;
  }

  private openInstance(): void {
    while (this.sequenceIndex < this.seq.playedLength && this.seq.partAt(this.sequenceIndex).length === 0) this.sequenceIndex++;
    if (this.sequenceIndex === this.seq.playedLength) {
      this.current = null;
      return;
    }
    const part = this.seq.partAt(this.sequenceIndex);
    this.current = { part, start: this.frontier, bindings: [], pending: 0 };
    this.active.push(this.current);
  }

  /** The registered workers having the tags, and their sorted names. */
  private matching(tags: TagSet): { workers: WorkerState[]; names: readonly string[] } {
    let match = this.matchCache.get(tags);
    if (!match) {
      const workers = [...this.workers.values()].filter((worker) => !worker.suspended && tags.tags.every((tag) => worker.tags.has(tag)));
      match = { workers, names: Object.freeze(workers.map((worker) => worker.name).sort()) };
      this.matchCache.set(tags, match);
    }
    return match;
  }

  /** Counts a worker for the frontier event; false when it has no credit left. */
  private involve(plan: EventPlan, worker: WorkerState): boolean {
    if (worker.mark === this.planRound) return true;
    if (worker.outstanding.size >= this.credit) return false;
    worker.mark = this.planRound;
    plan.involved.push(worker);
    return true;
  }

  /** Finds the workers of the frontier event, or says why they cannot all take it now. */
  private plan(): EventPlan | string {
    const instance = this.current!;
    const { part } = instance;
    const plan = this.eventPlan;
    plan.involved.clear();
    plan.newSlots.clear();
    plan.newWorkers.clear();
    this.planRound++;
    // workers the event needs anyway come first, so new constraints can spread to the others
    for (let s = 0; s < part.streams.length; s++) {
      const entry = part.entry(s, this.local);
      if (!entry) continue;
      for (const vw of entry) {
        if (vw.slot < 0) {
          for (const worker of this.matching(vw.tags).workers) if (!this.involve(plan, worker)) return this.waitingFor(worker);
          continue;
        }
        const bound = instance.bindings[vw.slot];
        if (bound === undefined) {
          if (!plan.newSlots.includes(vw.slot)) plan.newSlots.push(vw.slot);
        } else if (!this.involve(plan, bound)) {
          return this.waitingFor(bound);
        }
      }
    }
    for (let i = 0; i < plan.newSlots.length; i++) {
      const slot = plan.newSlots.at(i);
      const tags = part.constraintTagsOf(slot);
      const candidates = this.matching(tags).workers;
      // spread: a worker not yet in this event, else one not yet given another constraint of it;
      // a worker already in the event costs no extra credit
      const chosen = this.leastLoaded(plan, candidates, 'new to event')
        ?? this.leastLoaded(plan, candidates, 'in event, unchosen')
        ?? this.leastLoaded(plan, candidates, 'in event');
      if (!chosen) {
        const what = `tags ${pyList(tags.tags)} for constraint ${part.constraintOf(slot)} of part ${pyStr(part.name)}`;
        return candidates.length === 0
          ? `event ${this.frontier}: no worker with ${what}`
          : `event ${this.frontier}: waiting for credit of any worker with ${what}`;
      }
      this.involve(plan, chosen);
      plan.newWorkers.push(chosen);
    }
    return plan;
  }

  private waitingFor(worker: WorkerState): string {
    return `event ${this.frontier}: waiting for credit of worker ${pyStr(worker.name)} (${worker.outstanding.size} unfinished events)`;
  }

  private leastLoaded(plan: EventPlan, candidates: WorkerState[], choice: Choice): WorkerState | undefined {
    let best: WorkerState | undefined;
    for (const worker of candidates) {
      const inEvent = worker.mark === this.planRound;
      const eligible = choice === 'new to event' ? !inEvent && worker.outstanding.size < this.credit
        : choice === 'in event, unchosen' ? inEvent && !plan.newWorkers.includes(worker)
          : inEvent;
      if (!eligible) continue;
      if (best === undefined || worker.outstanding.size < best.outstanding.size
        || (worker.outstanding.size === best.outstanding.size && worker.lastBound < best.lastBound)) best = worker;
    }
    return best;
  }

  /** Assigns the frontier event as planned and moves the frontier on. */
  private commit(plan: EventPlan): Assignment {
    const instance = this.current!;
    for (let i = 0; i < plan.newSlots.length; i++) {
      const worker = plan.newWorkers.at(i);
      instance.bindings[plan.newSlots.at(i)] = worker;
      worker.lastBound = ++this.bindCounter;
    }
    const event = this.frontier;
    const { involved } = plan;
    if (involved.length === 0) {
      this.completed++;
    } else {
      for (let i = 0; i < involved.length; i++) involved.at(i).outstanding.push(event);
      if (involved.length > 1) this.remaining.set(event, involved.length);
      instance.pending++;
    }
    const assignment: Assignment = { event, streams: this.streamWorkers(instance) };

    this.frontier++;
    this.local++;
    if (this.local === instance.part.length) {
      this.local = 0;
      this.sequenceIndex++;
      if (instance.pending === 0) this.active.pop();
      this.openInstance();
    }
    return assignment;
  }

  /**
   * The frontier event's worker lists per stream. Events mostly go like the one before, or take
   * turns among a few workers, so a recent record with the same lists is handed out again: no object
   * per event, and those downstream (routes, the assignment codec) see a few records per scan.
   */
  private streamWorkers(instance: PartInstance): Readonly<Record<string, readonly string[]>> {
    const { streams } = instance.part;
    const lists = this.streamLists;
    this.unionMade = false;
    let count = 0;
    for (let s = 0; s < streams.length; s++) if ((lists[s] = this.workersOf(instance, s)) !== undefined) count++;
    if (!this.unionMade) {
      for (const recent of this.recentStreams) {
        if (recent.count !== count) continue;
        let same = true;
        for (let s = 0; s < streams.length && same; s++) same = lists[s] === undefined || recent.record[streams[s]!] === lists[s];
        if (same) return recent.record;
      }
    }
    const record: Record<string, readonly string[]> = {};
    for (let s = 0; s < streams.length; s++) if (lists[s] !== undefined) record[streams[s]!] = lists[s]!;
    // a list made for this event alone (several virtual workers on one stream) is not met again
    if (!this.unionMade) {
      this.recentStreams.unshift({ record, count });
      if (this.recentStreams.length > RECENT_STREAMS) this.recentStreams.pop();
    }
    return record;
  }

  /** the workers that get stream `s`'s frame of the frontier event; undefined: the stream sends none */
  private workersOf({ part, bindings }: PartInstance, s: number): readonly string[] | undefined {
    const entry = part.entry(s, this.local);
    if (!entry) return undefined;
    if (entry.length === 1) {
      const vw = entry[0]!;
      return vw.slot >= 0 ? bindings[vw.slot]!.alone : this.matching(vw.tags).names;
    }
    this.unionMade = true;
    const union = new Set<string>();
    for (const vw of entry) {
      if (vw.slot < 0) for (const name of this.matching(vw.tags).names) union.add(name);
      else union.add(bindings[vw.slot]!.name);
    }
    return Object.freeze([...union].sort());
  }

  /** One worker is done with an event; true when that completed the event. */
  private release(event: number): boolean {
    const left = (this.remaining.get(event) ?? 1) - 1;
    if (left > 0) {
      this.remaining.set(event, left);
      return false;
    }
    this.remaining.delete(event);
    this.completed++;
    let index = this.active.length - 1;
    while (this.active[index]!.start > event) index--;
    const instance = this.active[index]!;
    instance.pending--;
    if (instance.pending === 0 && instance !== this.current) this.active.splice(index, 1);
    return true;
  }

  private removeWorker(name: string): number[] {
    const lost = this.takeOutstanding(name);
    for (const event of lost) this.release(event);
    return lost;
  }
}
