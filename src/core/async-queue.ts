/**
 * A FIFO whose single consumer awaits the next item. `end()`: no more items come, the ones queued
 * are still delivered; `close()`: stop now. Either way the consumer then gets `undefined`.
 */
export class AsyncQueue<T> {
  private items: T[] = [];
  /** next to take from `items`; taking from the front by index keeps a long queue cheap */
  private head = 0;
  private wake?: () => void;
  private ended = false;
  private closed = false;

  get length(): number { return this.items.length - this.head; }

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  /** the next item, or undefined once ended and empty, or closed */
  async next(): Promise<T | undefined> {
    while (!this.length && !this.ended && !this.closed) await new Promise<void>((resolve) => { this.wake = resolve; });
    return this.closed ? undefined : this.shift();
  }

  /** the next item if one is queued, without waiting */
  shift(): T | undefined {
    if (this.head < this.items.length) return this.items[this.head++];
    if (this.head) {
      this.items = [];
      this.head = 0;
    }
    return undefined;
  }

  /** removes and returns what is queued */
  takeAll(): T[] {
    const items = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return items;
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.items = [];
    this.head = 0;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
