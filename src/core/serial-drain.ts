/**
 * One consumer loop over work that socket callbacks hand in: `kick()` starts a run unless one is
 * going; a run takes items until `next()` has none, handling each in turn.
 */
export class SerialDrain<Item> {
  private busy = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly next: () => Item | undefined, private readonly handle: (item: Item) => Promise<void> | void,
    private readonly onError: (error: unknown) => void) {}

  kick(): void {
    if (this.busy) return;
    this.busy = true;
    this.running = this.run().catch(this.onError);
  }

  /** resolves once no run is going, including runs kicked while waiting */
  async settled(): Promise<void> {
    while (this.busy) await this.running;
  }

  private async run(): Promise<void> {
    try {
      for (let item = this.next(); item !== undefined; item = this.next()) await this.handle(item);
    } finally {
      // cleared in the same tick as the last empty next(), so nothing kicked meanwhile is left waiting
      this.busy = false;
    }
  }
}
