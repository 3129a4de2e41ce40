/**
 * Puts events together from the partial events of several ingesters. Events leave in the order
 * they were first seen, each once every stream it expects has arrived.
 */
import type { EventData, StreamData } from '../core/types.js';
import { mergeStreams } from '../core/wire.js';

interface PendingEvent {
  event: EventData;
  expected: Set<string>;
}

export class EventAssembler {
  private readonly pending = new Map<number, PendingEvent>();
  private readonly order: number[] = [];

  get waiting(): number { return this.pending.size; }

  add(eventNumber: number, streams: Record<string, StreamData>, expect: string[] | undefined): void {
    let entry = this.pending.get(eventNumber);
    if (!entry) {
      entry = { event: { eventNumber, streams: {} }, expected: new Set(expect ?? Object.keys(streams)) };
      this.pending.set(eventNumber, entry);
      this.order.push(eventNumber);
    }
    mergeStreams(entry.event, streams);
  }

  /** the next complete event in order, if the oldest one is complete */
  takeReady(): EventData | undefined {
    const head = this.order[0];
    if (head === undefined) return undefined;
    const entry = this.pending.get(head)!;
    for (const stream of entry.expected) if (!(stream in entry.event.streams)) return undefined;
    this.order.shift();
    this.pending.delete(head);
    return entry.event;
  }

  clear(): void {
    this.pending.clear();
    this.order.length = 0;
  }
}
