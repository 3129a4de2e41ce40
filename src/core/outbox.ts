/**
 * Collects outgoing items per destination and sends them in batches. A batch leaves as soon as the
 * process would otherwise go idle (a backlog is read without yielding to the event loop, so
 * `setImmediate` fires only once it is drained), or earlier when it reaches a size or age limit.
 * A backlog thus travels in few zmq messages, while a lone item is not held back.
 */
export interface OutboxLimits {
  /** items across all destinations */
  items: number;
  bytes: number;
  /** how long the oldest queued item may wait while the process stays busy */
  ageMs: number;
}

/** both data-plane hops: a MiB item leaves alone, small ones travel up to 64 to a message */
export const DATA_PLANE_LIMITS: OutboxLimits = { items: 64, bytes: 1 << 20, ageMs: 2 };

export type BatchSender<Item> = (destination: string, items: Item[]) => Promise<void>;

export class Outbox<Item> {
  private pending = new Map<string, Item[]>();
  private items = 0;
  private bytes = 0;
  private oldest = 0;
  private scheduled = false;
  /** batches go out one after the other, so each destination receives its items in order */
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly send: BatchSender<Item>, private readonly limits: OutboxLimits,
    private readonly onError: (error: unknown) => void) {}

  /**
   * Queues an item. Returns the flush to await when a limit was reached, so a producer that outruns
   * its destinations is held back; otherwise undefined.
   */
  add(destination: string, item: Item, bytes: number): Promise<void> | undefined {
    let queued = this.pending.get(destination);
    if (!queued) this.pending.set(destination, queued = []);
    queued.push(item);
    const now = performance.now();
    if (this.items === 0) this.oldest = now;
    this.items += 1;
    this.bytes += bytes;
    if (this.items >= this.limits.items || this.bytes >= this.limits.bytes || now - this.oldest >= this.limits.ageMs) return this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
    return undefined;
  }

  /** sends everything queued; resolves when it (and every earlier batch) has been handed to zmq */
  flush(): Promise<void> {
    if (!this.items) return this.sending;
    const batches = this.pending;
    this.pending = new Map();
    this.items = this.bytes = 0;
    this.sending = this.sending.then(async () => {
      for (const [destination, items] of batches) {
        try {
          await this.send(destination, items);
        } catch (error) {
          this.onError(error);
        }
      }
    });
    return this.sending;
  }
}
