/**
 * Follows a scan's assignment stream ahead of the forwarding loop, so Redis latency overlaps work.
 * Routes queue up in order for the loop; reassignments and completions take effect as soon as they
 * are read, since they concern events the loop has already passed.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { AsyncQueue } from '../core/async-queue.js';
import { decodeAssignmentEntry, type AssignmentEntry, type EventRoute } from '../core/assignment-codec.js';
import type { EventRanges } from '../core/ranges.js';
import { readStream, type StreamEntry } from '../core/redis.js';

export interface AssignmentSink {
  reassigned(routes: EventRoute[]): void;
  completed(ranges: EventRanges): void;
}

export class AssignmentFollower {
  private readonly queue = new AsyncQueue<AssignmentEntry>();
  private stopped = false;

  constructor(private readonly connection: Redis, private readonly key: string, private readonly sink: AssignmentSink,
    private readonly logger: Logger) {
    this.loop().catch((e) => { if (!this.stopped) logger.error(`assignment reader: ${e}`); });
  }

  stop(): void {
    this.stopped = true;
    this.connection.disconnect();
    this.queue.close();
  }

  /** the next entry that routes events, in stream order; undefined once stopped */
  next(): Promise<AssignmentEntry | undefined> {
    return this.queue.next();
  }

  private async loop(): Promise<void> {
    let last = '0';
    try {
      while (!this.stopped) {
        let entries: StreamEntry[];
        try {
          entries = await readStream(this.connection, this.key, last, { blockMs: 1000, count: 100 });
        } catch (error) {
          if (this.stopped) return;
          this.logger.debug(`reading assignments failed, retrying: ${error}`);
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        for (const { id, fields } of entries) {
          last = id;
          let entry: AssignmentEntry;
          try {
            entry = decodeAssignmentEntry(fields[1]);
          } catch (error) {
            this.logger.error(`skipping an assignment entry: ${(error as Error).message}`);
            continue;
          }
          if (entry.completed.length) this.sink.completed(entry.completed);
          if (entry.reassigned.length) this.sink.reassigned(entry.reassigned);
          if (entry.routes.length) this.queue.push(entry);
        }
      }
    } finally {
      // the forwarding loop must not wait for assignments that can no longer come
      this.queue.end();
    }
  }
}
