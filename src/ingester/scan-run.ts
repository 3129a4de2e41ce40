/**
 * The work of one scan in an ingester: routes in, each stream's slots filled from its upstream,
 * frames forwarded to the workers the controller named, until the last event. Every forwarded
 * event's frames are kept until the controller says the event completed: a worker that dies is
 * replaced by another (a reassignment), and the kept frames go to it. A worker that is not
 * connected yet gets its frames when it pings. Memory is bounded in bytes: past the bound, the
 * upstream is not read until completions free some.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import type { EventRoute, StreamRoutes } from '../core/assignment-codec.js';
import type { ScanInfo } from '../core/messages.js';
import { DATA_PLANE_LIMITS, Outbox } from '../core/outbox.js';
import { forEachEvent, type EventRanges } from '../core/ranges.js';
import { EventTable } from '../core/event-table.js';
import type { StreamData } from '../core/types.js';
import { encodeEventBatch, type PartialEvent } from '../core/wire.js';
import { AssignmentFollower } from './assignment-follower.js';
import type { ScanDumper } from './dumper.js';
import type { SlotFill, StreamFeed } from './stream-feed.js';

/** what a scan run needs from its ingester */
export interface ScanRunPort {
  readonly logger: Logger;
  send(identity: string, message: Buffer[]): Promise<boolean>;
  forwarded(bytes: number): void;
}

export interface ScanRunOptions {
  scan: ScanInfo;
  /** the feed of each stream of this ingester that the scan uses */
  feeds: Map<string, StreamFeed>;
  /** a blocking Redis connection for the assignment stream (closed by the run) and the stream's key */
  assignments: { connection: Redis; key: string };
  /** a restarted ingester: per stream, the first slot its predecessor had not filled */
  resumeFrom?: Record<string, number>;
  dumper?: ScanDumper;
  maxRetainedBytes: number;
}

interface Retained {
  route: StreamRoutes;
  fills: Record<string, SlotFill>;
  bytes: number;
}

const RESTART_LOSS = 'its frame was lost when the ingester restarted';
const NOT_HELD = 'this ingester no longer holds its frame (it restarted after sending it)';

/** every stream of a route that goes to `identity`, cached per route (events share their route objects) */
const expectedByRoute = new WeakMap<StreamRoutes, Map<string, string[]>>();
function expectedStreams(route: StreamRoutes, identity: string): string[] {
  let byIdentity = expectedByRoute.get(route);
  if (!byIdentity) expectedByRoute.set(route, byIdentity = new Map());
  let expected = byIdentity.get(identity);
  if (!expected) byIdentity.set(identity, expected = Object.keys(route).filter((s) => route[s].includes(identity)));
  return expected;
}

function dataOf(fills: Record<string, SlotFill>): Record<string, StreamData> {
  const data: Record<string, StreamData> = {};
  for (const s in fills) {
    const fill = fills[s];
    if ('data' in fill) data[s] = fill.data;
  }
  return data;
}

export class ScanRun {
  readonly done: Promise<void>;
  private cancelled = false;
  private readonly follower: AssignmentFollower;
  private readonly streams: string[];
  private readonly nextSlot: Record<string, number> = {};
  /** kept events, until the controller says they completed */
  private readonly retained = new EventTable<Retained>();
  private retainedBytes = 0;
  private memoryFreed?: () => void;
  /** routes changed before the loop reached their event */
  private readonly overrides = new Map<number, StreamRoutes>();
  /** events that completed before the loop reached them (a restarted ingester skips those it need not read) */
  private readonly completedAhead = new Set<number>();
  /** identity → events it could not be sent yet (not connected) */
  private readonly parked = new Map<string, Set<number>>();
  /** the event the loop is filling (its frames may still be on their way) */
  private loopEvent = -1;
  /** every event up to this one has been taken: kept and sent, or passed */
  private takenUpTo = -1;
  private readonly outbox: Outbox<PartialEvent>;

  constructor(private readonly port: ScanRunPort, private readonly options: ScanRunOptions) {
    this.streams = [...options.feeds.keys()];
    for (const s of this.streams) this.nextSlot[s] = 0;
    this.outbox = new Outbox<PartialEvent>((identity, events) => this.sendBatch(identity, events), DATA_PLANE_LIMITS,
      (error) => port.logger.error(`sending to workers: ${error}`));
    this.follower = new AssignmentFollower(options.assignments.connection, options.assignments.key, {
      reassigned: (routes) => this.reassign(routes),
      completed: (ranges) => this.complete(ranges),
    }, port.logger);
    this.done = this.streams.length ? this.forward() : Promise.resolve();
  }

  /** per stream, the slot after the last one filled: where a restarted ingester goes on */
  positions(): Record<string, number> {
    return Object.fromEntries([...this.options.feeds].map(([s, feed]) => [s, Math.max(feed.position, this.options.resumeFrom?.[s] ?? 0)]));
  }

  get retainedEvents(): number { return this.retained.size; }

  /** the event the forwarding loop is at (for reports of messages that belong to no event) */
  get currentEvent(): number { return Math.max(0, this.loopEvent); }

  async cancel(): Promise<void> {
    this.cancelled = true;
    this.follower.stop();
    this.memoryFreed?.();
    await this.done.catch(() => undefined);
    await this.options.dumper?.close();
    // the ingester keeps a stopped run for a while (Ingester.stoppedRun): it keeps no frames
    this.retained.clear();
    this.retainedBytes = 0;
    this.parked.clear();
  }

  /** a worker connected (or pinged again): what waited for it goes now */
  workerPinged(identity: string): void {
    const events = this.parked.get(identity);
    if (!events) return;
    this.parked.delete(identity);
    for (const event of events) this.deliver(event, [identity]);
  }

  private async forward(): Promise<void> {
    const { scan, feeds, resumeFrom } = this.options;
    while (!this.cancelled) {
      const entry = await this.follower.next();
      if (!entry) break;
      for (const s of this.streams) if (s in entry.slots) this.nextSlot[s] = entry.slots[s];
      for (const { event, streams } of entry.routes) {
        if (this.cancelled) break;
        this.loopEvent = event;
        const fills: Record<string, SlotFill> = {};
        let filled = false;
        for (const s of this.streams) {
          if (!(s in streams)) continue;                               // null entry: no frame for this event
          const slot = this.nextSlot[s]++;
          if (resumeFrom && slot < (resumeFrom[s] ?? 0)) {
            // the predecessor read this slot; unless the event completed, its frame died with it
            if (!this.completedAhead.has(event)) {
              fills[s] = { missing: RESTART_LOSS };
              filled = true;
            }
            continue;
          }
          const fill = feeds.get(s)!.fill(slot, event === scan.streamEnds[s]);
          fills[s] = fill instanceof Promise ? await fill : fill;
          filled = true;
        }
        // a reassignment, or the event's end, may have come while the frames were awaited
        const endedMeanwhile = this.completedAhead.delete(event);
        const route = this.overrides.get(event) ?? streams;
        this.overrides.delete(event);
        if (!this.cancelled && !endedMeanwhile && filled) {
          const held = this.take(event, route, fills);
          if (held) await held;
        }
        this.takenUpTo = event;
      }
    }
    await this.outbox.flush();
  }

  /**
   * An event's fills: counted, dumped, kept and sent; the wait, when a batch must leave first or
   * the kept frames are over the bound (none most of the time: no await per event)
   */
  private take(event: number, route: StreamRoutes, fills: Record<string, SlotFill>): Promise<void> | undefined {
    let bytes = 0;
    let carried = false;
    let receivers = false;
    for (const s in fills) {
      const fill = fills[s];
      if (route[s].length) receivers = true;
      if (!('data' in fill)) continue;
      carried = true;
      for (const frame of fill.data.frames) bytes += frame.length;
    }
    if (carried) {
      this.port.forwarded(bytes);
      if (this.options.dumper) this.options.dumper.write(event, dataOf(fills));
    }
    if (!receivers) return undefined;                               // every frame of this ingester is discarded
    this.retained.set(event, { route, fills, bytes });
    this.retainedBytes += bytes;
    const flushing = this.deliver(event);
    if (flushing || this.overBound()) return this.hold(flushing);
    return undefined;
  }

  private overBound(): boolean {
    return this.retainedBytes > this.options.maxRetainedBytes && !this.cancelled;
  }

  /** waits for a batch to leave, then while the kept frames are over the bound */
  private async hold(flushing: Promise<void> | undefined): Promise<void> {
    if (flushing) await flushing;
    while (this.overBound()) await new Promise<void>((resolve) => { this.memoryFreed = resolve; });
  }

  /**
   * Queues a kept event for its workers (or for `only` among them), each with the streams it gets
   * from here and the ones it must wait for from other ingesters; the flush to await when a batch
   * must leave first.
   */
  private deliver(event: number, only?: string[]): Promise<void> | undefined {
    const kept = this.retained.get(event);
    if (!kept) return undefined;
    let flushing: Promise<void> | undefined;
    const delivered: string[] = [];
    for (const stream in kept.fills) {
      for (const identity of kept.route[stream]) {
        if ((only && !only.includes(identity)) || delivered.includes(identity)) continue;
        delivered.push(identity);
        const partial: PartialEvent = { event, streams: {} };
        let size = 0;
        let carried = 0;
        for (const s in kept.fills) {
          if (!kept.route[s].includes(identity)) continue;
          carried += 1;
          const fill = kept.fills[s];
          if ('data' in fill) {
            partial.streams[s] = fill.data;
            for (const frame of fill.data.frames) size += frame.length;
          } else {
            (partial.missing ??= {})[s] = fill.missing;
          }
        }
        const expected = expectedStreams(kept.route, identity);
        if (expected.length > carried) partial.expect = expected;
        flushing = this.outbox.add(identity, partial, size) ?? flushing;
      }
    }
    return flushing;
  }

  private async sendBatch(identity: string, events: PartialEvent[]): Promise<void> {
    if (await this.port.send(identity, encodeEventBatch(this.options.scan.scan, this.options.scan.token, events))) return;
    let waiting = this.parked.get(identity);
    if (!waiting) this.parked.set(identity, waiting = new Set());
    for (const { event } of events) waiting.add(event);
  }

  private reassign(routes: EventRoute[]): void {
    for (const { event, streams } of routes) {
      const kept = this.retained.get(event);
      if (kept) {
        const before = new Set(Object.keys(kept.fills).flatMap((s) => kept.route[s]));
        kept.route = streams;
        const added = Object.keys(kept.fills).flatMap((s) => streams[s] ?? []).filter((id) => !before.has(id));
        for (const waiting of this.parked.values()) waiting.delete(event);
        void this.deliver(event, added);
      } else if (event > this.takenUpTo) {
        this.overrides.set(event, streams);
      } else {
        this.sendNotHeld(event, streams);
      }
    }
  }

  /** an event this ingester passed without keeping its frames went to a new worker: tell it they will not come */
  private sendNotHeld(event: number, route: StreamRoutes): void {
    const mine = this.streams.filter((s) => route[s]?.length);
    const identities = new Set(mine.flatMap((s) => route[s]));
    for (const identity of identities) {
      const missing: Record<string, string> = {};
      for (const s of mine) if (route[s].includes(identity)) missing[s] = NOT_HELD;
      const expected = expectedStreams(route, identity);
      void this.outbox.add(identity, { event, streams: {}, missing, ...(expected.length > Object.keys(missing).length ? { expect: expected } : {}) }, 0);
    }
  }

  private complete(ranges: EventRanges): void {
    forEachEvent(ranges, (event) => {
      const kept = this.retained.get(event);
      if (kept) {
        this.retained.delete(event);
        this.retainedBytes -= kept.bytes;
      } else if (event > this.takenUpTo) {
        this.completedAhead.add(event);
      }
      if (this.overrides.size) this.overrides.delete(event);
    });
    if (this.retainedBytes <= this.options.maxRetainedBytes && this.memoryFreed) {
      const wake = this.memoryFreed;
      this.memoryFreed = undefined;
      wake();
    }
  }
}
