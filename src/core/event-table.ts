/**
 * Values by event number, for entries that come and go once per event (events being put together,
 * frames kept until their event ends). A plain object, not a Map: a Map that grows and shrinks by
 * an entry per event links its old tables to the new ones, and once one of them is in the old
 * generation the whole chain, with every value it held, survives the young collections until a
 * full one (the workers promoted 200 B per event this way).
 */
export class EventTable<Value> {
  private entries: Record<number, Value> = Object.create(null);
  private count = 0;

  get size(): number { return this.count; }

  get(event: number): Value | undefined {
    return this.count ? this.entries[event] : undefined;
  }

  set(event: number, value: Value): void {
    if (this.entries[event] === undefined) this.count += 1;
    this.entries[event] = value;
  }

  delete(event: number): void {
    if (this.entries[event] === undefined) return;
    delete this.entries[event];
    this.count -= 1;
  }

  clear(): void {
    this.entries = Object.create(null);
    this.count = 0;
  }
}

/** whether a record has any key (without listing them: this runs for every event) */
export function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}
