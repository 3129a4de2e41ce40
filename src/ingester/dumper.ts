/** Appends every forwarded event of a scan to a dump file in the original's tagged CBOR format. */
import type { Logger } from 'winston';
import { DumpWriter } from '../core/capture/index.js';
import type { StreamData } from '../core/types.js';

export class ScanDumper {
  /** writes are chained so events land in order without the forwarding loop waiting for the disk */
  private writer?: Promise<DumpWriter | undefined>;
  private failed = false;

  constructor(private readonly path: string, private readonly logger: Logger) {}

  write(eventNumber: number, streams: Record<string, StreamData>): void {
    const createdAt = new Date();
    this.writer = (this.writer ?? DumpWriter.open(this.path)).then(async (w) => {
      await w?.write({ eventNumber, streams, createdAt });
      return w;
    }).catch((error: unknown) => {
      if (!this.failed) this.logger.error(`dumping to ${this.path} failed, the scan goes on without the dump: ${error}`);
      this.failed = true;
      return undefined;
    });
  }

  async close(): Promise<void> {
    const writer = await this.writer;
    this.writer = undefined;
    await writer?.close();
  }
}
