/**
 * Puts events together from the partial events of several ingesters. Events leave in the order
 * they were first seen, each once every stream it expects has arrived or is known to be missing.
 * Whatever arrives twice (an ingester that resends after a restart) is ignored, and so is anything
 * for an event this worker already handled.
 */
import type { EventData, StreamData } from '../core/types.js';
import type { EventSet } from '../core/event-set.js';

interface PendingEvent {
  event: EventData;
  expected: Set<string>;
  missing: Record<string, string>;
}

export class EventAssembler {
  private readonly pending = new Map<number, PendingEvent>();
  private readonly order: number[] = [];
  private head = 0;

  constructor(private readonly handled: EventSet) {}

  get waiting(): number { return this.pending.size; }

  add(eventNumber: number, streams: Record<string, StreamData>, expect: string[] | undefined, missing: Record<string, string> | undefined): void {
    if (this.handled.has(eventNumber)) return;
    let entry = this.pending.get(eventNumber);
    if (!entry) {
      entry = {
        event: { eventNumber, streams: {} },
        expected: new Set(expect ?? [...Object.keys(streams), ...Object.keys(missing ?? {})]),
        missing: {},
      };
      this.pending.set(eventNumber, entry);
      this.order.push(eventNumber);
    }
    for (const [name, data] of Object.entries(streams)) {
      if (name in entry.event.streams) continue;
      entry.event.streams[name] = data;
      delete entry.missing[name];
    }
    for (const [name, reason] of Object.entries(missing ?? {})) {
      if (!(name in entry.event.streams)) entry.missing[name] = reason;
    }
  }

  /** the next complete event in order, if the oldest one is complete; its missing streams with their reasons */
  takeReady(): { event: EventData; missing: Record<string, string> } | undefined {
    while (this.head < this.order.length && !this.pending.has(this.order[this.head])) this.head++;
    if (this.head === this.order.length) {
      this.order.length = this.head = 0;
      return undefined;
    }
    const number = this.order[this.head];
    const entry = this.pending.get(number)!;
    for (const stream of entry.expected) if (!(stream in entry.event.streams) && !(stream in entry.missing)) return undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    this.pending.delete(number);
    return { event: entry.event, missing: entry.missing };
  }

  clear(): void {
    this.pending.clear();
    this.order.length = this.head = 0;
  }
}
