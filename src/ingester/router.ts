/**
 * The ingester's ROUTER socket: workers connect DEALERs whose routing id is `name/instance` and
 * ping; frames go to one such identity. A full peer queue is retried (never dropped). An identity
 * that is not connected is refused at once: the caller keeps the frames and sends them again when
 * that worker pings, or to the worker the controller reassigns them to. Because the identity holds
 * the process instance, a restarted worker never receives what its predecessor was sent, and a peer
 * that did not learn an instance from the pipeline's Redis receives nothing.
 */
import * as zmq from 'zeromq';
import type { Logger } from 'winston';

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string })?.code;
}

export class WorkerRouter {
  private readonly socket = new zmq.Router({ mandatory: true, linger: 0 });
  private readonly connected = new Set<string>();
  endpoint = '';

  constructor(private readonly logger: Logger, private readonly onPing: (identity: string) => void) {}

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
      this.onPing(worker);
    }
  }

  /** true when handed to zmq; false when that identity is not connected */
  async send(identity: string, message: Buffer[]): Promise<boolean> {
    for (;;) {
      try {
        await this.socket.send([identity, ...message]);
        return true;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'EAGAIN') {
          await new Promise((r) => setImmediate(r));
        } else if (code === 'EHOSTUNREACH') {
          this.connected.delete(identity);
          return false;
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
