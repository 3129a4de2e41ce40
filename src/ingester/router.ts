/**
 * The ingester's ROUTER socket: workers connect DEALERs named after themselves and ping; frames go
 * to a worker by name. A full peer queue is retried (never dropped); a worker that is not connected
 * is waited for briefly, then its frame is reported as dropped.
 */
import * as zmq from 'zeromq';
import type { Logger } from 'winston';

const CONNECT_GRACE_MS = 10_000;

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string })?.code;
}

export class WorkerRouter {
  private readonly socket = new zmq.Router({ mandatory: true, handover: true, linger: 0 });
  /** workers that pinged since they were last given up on */
  private readonly connected = new Set<string>();
  /** workers whose frames were dropped: later frames fail at once until they ping again */
  private readonly gone = new Set<string>();
  endpoint = '';
  dropped = 0;

  constructor(private readonly logger: Logger) {}

  async bind(address: string): Promise<void> {
    await this.socket.bind(address.replace(/:0$/, ':*'));
    this.endpoint = this.socket.lastEndpoint ?? address;
    this.receivePings().catch((e) => { if (!this.socket.closed) this.logger.error(`router receive: ${e}`); });
  }

  connectedWorkers(): string[] {
    return [...this.connected];
  }

  private async receivePings(): Promise<void> {
    for await (const [identity] of this.socket) {
      const worker = identity.toString();
      this.connected.add(worker);
      this.gone.delete(worker);
    }
  }

  /** true when delivered; false when the worker never connected within the grace period */
  async send(worker: string, message: Buffer[]): Promise<boolean> {
    if (this.gone.has(worker)) {
      this.dropped += 1;
      return false;
    }
    const started = Date.now();
    for (;;) {
      try {
        await this.socket.send([worker, ...message]);
        return true;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'EAGAIN') {
          await new Promise((r) => setImmediate(r));
        } else if (code === 'EHOSTUNREACH') {
          if (Date.now() - started > CONNECT_GRACE_MS) {
            this.gone.add(worker);
            this.connected.delete(worker);
            this.dropped += 1;
            return false;
          }
          await new Promise((r) => setTimeout(r, 5));
        } else {
          throw error;
        }
      }
    }
  }

  close(): void {
    this.socket.close();
  }
}
