/**
 * One consumer loop over work that socket callbacks hand in: `kick()` starts a run unless one is
 * going; a run takes items until `next()` has none, handling each in turn. A run yields to the event
 * loop whenever it has held it for `yieldEveryMs`: a backlog of slow synchronous user code must not
 * starve the sockets, the report timers and the outgoing batches (a worker busy 30 ms per event
 * once drained its whole backlog without yielding, and its ingester stopped reading the detector).
 */
const DEFAULT_YIELD_EVERY_MS = 10;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface SerialDrainOptions {
  yieldEveryMs?: number;
  /** told when a run starts (true) and when it ends (false): a part's busy time, without reading the clock per item */
  running?: (running: boolean) => void;
}

export class SerialDrain<Item> {
  private busy = false;
  private running: Promise<void> = Promise.resolve();
  private readonly yieldEveryMs: number;

  constructor(private readonly next: () => Item | undefined, private readonly handle: (item: Item) => Promise<void> | void,
    private readonly onError: (error: unknown) => void, private readonly options: SerialDrainOptions = {}) {
    this.yieldEveryMs = options.yieldEveryMs ?? DEFAULT_YIELD_EVERY_MS;
  }

  kick(): void {
    if (this.busy) return;
    this.busy = true;
    this.options.running?.(true);
    this.running = this.run().catch(this.onError);
  }

  /** resolves once no run is going, including runs kicked while waiting */
  async settled(): Promise<void> {
    while (this.busy) await this.running;
  }

  private async run(): Promise<void> {
    try {
      let since = performance.now();
      for (let item = this.next(); item !== undefined; item = this.next()) {
        // a handler that is done at once returns nothing, and the run goes on without a promise
        const handling = this.handle(item);
        if (handling) await handling;
        if (performance.now() - since >= this.yieldEveryMs) {
          await yieldToEventLoop();
          since = performance.now();
        }
      }
    } finally {
      // cleared in the same tick as the last empty next(), so nothing kicked meanwhile is left waiting
      this.busy = false;
      this.options.running?.(false);
    }
  }
}
