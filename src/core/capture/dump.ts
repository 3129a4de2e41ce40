/**
 * Ingester dumps (protocols.md §3.2, core.md §7.1): a CBOR sequence of
 * `tag 55799(tag 42877([event_number, {stream: tag 42878([typ, [bstr…]])}, created_at?]))`.
 */
import { Tag } from 'cbor-x';
import { z } from 'zod';
import { describeIssues } from '../validation.js';
import type { StreamData } from '../types.js';
import { readCborSequence, type CaptureReadOptions } from './sequence-reader.js';
import { CborSequenceWriter, checkFrames, type CaptureWriteOptions } from './sequence-writer.js';

export interface DumpEvent {
  eventNumber: number;
  streams: Record<string, StreamData>;
  /** ingester-side creation time; absent in old dumps. Read with millisecond precision (JavaScript Date). */
  createdAt?: Date;
}

const SELF_DESCRIBED_CBOR_TAG = 55799;
const INTERNAL_WORKER_MESSAGE_TAG = 42877;
const STREAM_DATA_TAG = 42878;
const DATE_TIME_STRING_TAG = 0;

function tagged<T extends z.ZodType>(tag: number, content: T) {
  const message = `expected CBOR tag ${tag}`;
  return z.instanceof(Tag, { message })
    .refine((value) => value.tag === tag, { message })
    .transform((value): unknown => value.value)
    .pipe(content);
}

const streamDataSchema = tagged(STREAM_DATA_TAG, z.tuple([
  z.string(),
  z.array(z.instanceof(Buffer, { message: 'expected a byte string' })),
])).transform(([typ, frames]): StreamData => ({ typ, frames }));

// cbor-x removes tag 55799 itself and turns tag 0 into a Date
const dumpItemSchema = tagged(INTERNAL_WORKER_MESSAGE_TAG, z.tuple([
  z.number().int().nonnegative(),
  z.record(z.string(), streamDataSchema),
  z.date({ message: 'created_at is not a valid date-time' }).optional(),
])).transform(([eventNumber, streams, createdAt]): DumpEvent =>
  (createdAt ? { eventNumber, streams, createdAt } : { eventNumber, streams }));

function toDumpEvent(item: unknown): DumpEvent {
  const parsed = dumpItemSchema.safeParse(item);
  if (parsed.success) return parsed.data;
  throw new Error(`not an ingester dump item: ${describeIssues(parsed.error)}`);
}

export function readDump(path: string, options?: CaptureReadOptions): AsyncGenerator<DumpEvent> {
  return readCborSequence(path, toDumpEvent, options);
}

/** Writes dumps as the original's Dumper does, so `dranspose replay` of either system reads them. */
export class DumpWriter {
  private constructor(private readonly sink: CborSequenceWriter) {}

  /** Appends to an existing file (several scans accumulate, as in the original) unless `append` is false. */
  static async open(path: string, options: CaptureWriteOptions = {}): Promise<DumpWriter> {
    return new DumpWriter(await CborSequenceWriter.open(path, { append: true, ...options }));
  }

  async write(event: DumpEvent): Promise<void> {
    await this.sink.write(dumpItem(event));
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

function dumpItem(event: DumpEvent): Tag {
  if (!Number.isSafeInteger(event.eventNumber) || event.eventNumber < 0) {
    throw new RangeError(`event number ${event.eventNumber} is not a non-negative integer`);
  }
  // fromEntries defines own properties, so no stream name can touch the object prototype
  const streams = Object.fromEntries(Object.entries(event.streams).map(([name, data]) => {
    checkFrames(data.frames, `stream ${name} `);
    return [name, new Tag([data.typ, data.frames], STREAM_DATA_TAG)];
  }));
  const message: unknown[] = [event.eventNumber, streams];
  if (event.createdAt !== undefined) message.push(new Tag(rfc3339Microseconds(event.createdAt), DATE_TIME_STRING_TAG));
  return new Tag(new Tag(message, INTERNAL_WORKER_MESSAGE_TAG), SELF_DESCRIBED_CBOR_TAG);
}

/** UTC with six fractional digits and `Z`, as cbor2 writes a Python datetime */
function rfc3339Microseconds(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('createdAt is an invalid Date');
  return date.toISOString().replace(/Z$/, '000Z');
}
