/** A FIFO whose single consumer awaits the next item; closing wakes it with `undefined`. */
export class AsyncQueue<T> {
  private items: T[] = [];
  private wake?: () => void;
  private closed = false;

  get length(): number { return this.items.length; }

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  /** the next item, or undefined once closed */
  async next(): Promise<T | undefined> {
    while (!this.items.length && !this.closed) await new Promise<void>((resolve) => { this.wake = resolve; });
    return this.closed ? undefined : this.items.shift();
  }

  clear(): void {
    this.items = [];
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
