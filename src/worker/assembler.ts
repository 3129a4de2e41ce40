/**
 * Puts events together from the partial events of several ingesters. Events leave in the order
 * they were first seen, each once every stream it expects has arrived or is known to be missing.
 * Whatever arrives for an event seen before is ignored (an ingester that resends after a restart),
 * unless the event is still being put together.
 *
 * Most events come whole in one message (no `expect`, nothing missing): such an event takes the
 * decoded streams as they are and only joins the queue, since a worker may take tens of thousands
 * of them a second. Events in parts are looked up by number in an EventTable (not a Map, which
 * kept taken events from the young collections).
 */
import type { EventData, StreamData } from '../core/types.js';
import { EventSet } from '../core/event-set.js';
import { EventTable, hasKeys } from '../core/event-table.js';

/** an event whose first message did not bring every stream */
interface PartialEntry {
  event: EventData;
  /** every stream the event needs; undefined when its first message said it brought them all */
  expected: readonly string[] | undefined;
  /** streams that will not come, with the reason; undefined when none */
  missing: Record<string, string> | undefined;
}

/** taken events at the queue's front that make it worth copying the rest to a new array */
const COMPACT_AFTER = 1024;

export class EventAssembler {
  /** every event of this scan that arrived: anything more for one of them is a resend, unless it is still partial */
  private readonly seen = new EventSet();
  /** events in the order first seen, from `head` on */
  private queue: EventData[] = [];
  private head = 0;
  private readonly partial = new EventTable<PartialEntry>();

  /** events waiting to be complete, or to be taken */
  get waiting(): number { return this.queue.length - this.head; }

  /** `streams` becomes the event's own (the decoder made it for this event alone) */
  add(eventNumber: number, streams: Record<string, StreamData>, expect: string[] | undefined, missing: Record<string, string> | undefined): void {
    let entry: PartialEntry | undefined;
    if (this.seen.add(eventNumber)) {
      const event: EventData = { eventNumber, streams };
      this.queue.push(event);
      // without `expect`, this message brings every stream the event has, or says it is missing
      if (!expect && !missing) return;
      entry = { event, expected: expect, missing: undefined };
      this.partial.set(eventNumber, entry);
    } else {
      entry = this.partial.get(eventNumber);
      if (!entry) return;
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

  /** the next complete event in order, if the oldest one is complete; `missing` set when streams will not come */
  takeReady(): EventData | undefined {
    if (this.head === this.queue.length) {
      if (this.head) this.queue = [];
      this.head = 0;
      return undefined;
    }
    const event = this.queue[this.head];
    const entry = this.partial.get(event.eventNumber);
    if (entry) {
      const { streams } = event;
      const { expected, missing } = entry;
      if (expected) for (const stream of expected) if (!(stream in streams) && !(missing && stream in missing)) return undefined;
      this.partial.delete(event.eventNumber);
      if (missing && hasKeys(missing)) event.missing = missing;
    }
    // the slot is cleared, so that the queue's array holds nothing that was taken
    this.queue[this.head++] = undefined!;
    // a queue that never drains (a backlog, or an event that waits for a stream) drops its taken front now and then
    if (this.head > COMPACT_AFTER && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return event;
  }

  /** drops the events not taken; what arrives for them later is ignored as well */
  clear(): void {
    this.queue = [];
    this.head = 0;
    this.partial.clear();
  }

  /** a new scan: no event is known */
  reset(): void {
    this.clear();
    this.seen.clear();
  }
}
