/**
 * The unfinished events of one worker. Events arrive in increasing order (the frontier only moves
 * forward) and mostly finish in that order, so an append-only sorted array with tombstones beats a
 * hash set: appends and the usual oldest-first removals are O(1), any other removal O(log n).
 */
export class EventQueue {
  /** sorted by event number; a finished event is kept as -(event + 1) until it can be dropped */
  private events: number[] = [];
  private head = 0;
  private live = 0;

  get size(): number {
    return this.live;
  }

  /** Appends an event newer than every event in the queue. */
  push(event: number): void {
    const last = this.events.length > this.head ? decode(this.events[this.events.length - 1]!) : -1;
    if (event <= last) throw new RangeError(`event ${event} is not newer than ${last}`);
    this.events.push(event);
    this.live++;
  }

  /** Adds an event of any age (one taken over from another worker); O(n) but rare. */
  insert(event: number): void {
    const live = this.values();
    if (live.includes(event)) return;
    let i = live.length;
    while (i > 0 && live[i - 1]! > event) i--;
    live.splice(i, 0, event);
    this.events = live;
    this.head = 0;
    this.live = live.length;
  }

  /** the oldest unfinished event, if any */
  first(): number | undefined {
    for (let i = this.head; i < this.events.length; i++) if (this.events[i]! >= 0) return this.events[i];
    return undefined;
  }

  has(event: number): boolean {
    const index = this.find(event);
    return index >= 0 && this.events[index]! >= 0;
  }

  /** Removes an unfinished event; false when it is not in the queue. */
  delete(event: number): boolean {
    // the oldest event, the usual one, needs no search
    const index = this.events[this.head] === event ? this.head : this.find(event);
    if (index < 0 || this.events[index]! < 0) return false;
    this.events[index] = -event - 1;
    this.live--;
    while (this.head < this.events.length && this.events[this.head]! < 0) this.head++;
    const dead = this.events.length - this.head - this.live;
    if (this.head === this.events.length) {
      this.events = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    } else if (dead > 1024 && dead > 2 * this.live) {
      this.events = this.values();
      this.head = 0;
    }
    return true;
  }

  /** The unfinished events, oldest first. */
  values(): number[] {
    const out: number[] = [];
    for (let i = this.head; i < this.events.length; i++) if (this.events[i]! >= 0) out.push(this.events[i]!);
    return out;
  }

  clear(): void {
    this.events = [];
    this.head = 0;
    this.live = 0;
  }

  /** Index of the slot holding the event (finished or not), or -1. */
  private find(event: number): number {
    let low = this.head;
    let high = this.events.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = decode(this.events[mid]!);
      if (value === event) return mid;
      if (value < event) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }
}

function decode(stored: number): number {
  return stored < 0 ? -stored - 1 : stored;
}
