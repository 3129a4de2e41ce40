/**
 * Puts events together from the partial events of several ingesters. Events leave in the order
 * they were first seen, each once every stream it expects has arrived or is known to be missing.
 * Whatever arrives twice (an ingester that resends after a restart) is ignored, and so is anything
 * for an event this worker already handled.
 *
 * Most events come whole in one message (no `expect`, nothing missing): such an event takes the
 * decoded streams as they are and costs one entry, without sets or copies, since a worker may take
 * tens of thousands of them a second.
 */
import type { EventData, StreamData } from '../core/types.js';
import type { EventSet } from '../core/event-set.js';

/** an event being put together; what `takeReady` hands out once it is complete */
export interface PendingEvent {
  event: EventData;
  /** every stream the event needs, when its first message did not bring them all */
  expected: readonly string[] | undefined;
  /** streams that will not come, with the reason; undefined when none */
  missing: Record<string, string> | undefined;
}

export class EventAssembler {
  private readonly pending = new Map<number, PendingEvent>();
  private readonly order: number[] = [];
  private head = 0;

  constructor(private readonly handled: EventSet) {}

  get waiting(): number { return this.pending.size; }

  /** `streams` becomes the event's own (the decoder made it for this event alone) */
  add(eventNumber: number, streams: Record<string, StreamData>, expect: string[] | undefined, missing: Record<string, string> | undefined): void {
    if (this.handled.has(eventNumber)) return;
    let entry = this.pending.get(eventNumber);
    if (!entry) {
      // without `expect`, this message brings every stream the event has, or says it is missing
      entry = { event: { eventNumber, streams }, expected: expect, missing: undefined };
      this.pending.set(eventNumber, entry);
      this.order.push(eventNumber);
    } else {
      const known = entry.event.streams;
      for (const name in streams) {
        if (name in known) continue;
        known[name] = streams[name];
        if (entry.missing) delete entry.missing[name];
      }
    }
    if (!missing) return;
    for (const name in missing) {
      if (name in entry.event.streams) continue;
      (entry.missing ??= {})[name] = missing[name];
    }
  }

  /** the next complete event in order, if the oldest one is complete */
  takeReady(): PendingEvent | undefined {
    while (this.head < this.order.length && !this.pending.has(this.order[this.head])) this.head++;
    if (this.head === this.order.length) {
      this.order.length = this.head = 0;
      return undefined;
    }
    const number = this.order[this.head];
    const entry = this.pending.get(number)!;
    if (entry.expected) {
      const { streams } = entry.event;
      for (const stream of entry.expected) if (!(stream in streams) && !(entry.missing && stream in entry.missing)) return undefined;
    }
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    this.pending.delete(number);
    return entry;
  }

  clear(): void {
    this.pending.clear();
    this.order.length = this.head = 0;
  }
}
