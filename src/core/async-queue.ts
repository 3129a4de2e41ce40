/**
 * A FIFO whose single consumer awaits the next item. `end()`: no more items come, the ones queued
 * are still delivered; `close()`: stop now. Either way the consumer then gets `undefined`.
 */
export class AsyncQueue<T> {
  private items: T[] = [];
  private wake?: () => void;
  private ended = false;
  private closed = false;

  get length(): number { return this.items.length; }

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  /** the next item, or undefined once ended and empty, or closed */
  async next(): Promise<T | undefined> {
    while (!this.items.length && !this.ended && !this.closed) await new Promise<void>((resolve) => { this.wake = resolve; });
    return this.closed ? undefined : this.items.shift();
  }

  /** removes and returns what is queued */
  takeAll(): T[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.items = [];
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
