/** Appends every forwarded event of a scan to a dump file in the original's tagged CBOR format. */
import { statSync } from 'node:fs';
import { DumpWriter } from '../core/capture/index.js';
import type { StreamData } from '../core/types.js';

/** what a dump item adds besides its frames (tags, event number, names, date), at most */
const ITEM_OVERHEAD_BYTES = 64;

export interface ScanDumperOptions {
  /** bytes the file may reach (what it held before included); the dumper stops there */
  maxBytes: number;
  /** a dump that failed or stopped: logged and counted by the owner, once per dump */
  onProblem(message: string): void;
}

export class ScanDumper {
  /** writes are chained so events land in order without the forwarding loop waiting for the disk */
  private writer?: Promise<DumpWriter | undefined>;
  private stopped = false;
  private bytes?: number;

  constructor(private readonly path: string, private readonly options: ScanDumperOptions) {}

  write(eventNumber: number, streams: Record<string, StreamData>): void {
    if (this.stopped) return;
    this.bytes ??= ScanDumper.sizeOf(this.path);
    this.bytes += Object.entries(streams).reduce((sum, [name, data]) => sum + name.length + data.typ.length
      + data.frames.reduce((frames, frame) => frames + frame.length, 0), ITEM_OVERHEAD_BYTES);
    if (this.bytes > this.options.maxBytes) {
      this.stop(`dump ${this.path} reached its limit of ${this.options.maxBytes} bytes at event ${eventNumber}; the rest of the scan is not dumped`);
      return;
    }
    const createdAt = new Date();
    this.writer = (this.writer ?? DumpWriter.open(this.path)).then(async (w) => {
      await w?.write({ eventNumber, streams, createdAt });
      return w;
    }).catch((error: unknown) => {
      this.stop(`dumping to ${this.path} failed, the scan goes on without the dump: ${error}`);
      return undefined;
    });
  }

  async close(): Promise<void> {
    const writer = await this.writer;
    this.writer = undefined;
    await writer?.close();
  }

  private stop(message: string): void {
    if (!this.stopped) this.options.onProblem(message);
    this.stopped = true;
  }

  /** the file is appended to: what it holds counts against the limit */
  private static sizeOf(path: string): number {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  }
}
