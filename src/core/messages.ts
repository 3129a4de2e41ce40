/** Coordination messages on Redis (design.md §3), validated where they enter a component. */
import { z } from 'zod';

/**
 * `[first, count, …]`, checked in one pass: the controller reads a report of every 64–1024 events,
 * and checking their runs number by number as a schema array was a tenth of its time
 */
const eventRanges = z.custom<number[]>(
  (value) => Array.isArray(value) && value.every((n) => Number.isSafeInteger(n) && n >= 0),
  'expected event ranges: an array of non-negative integers',
);

export const scanInfoSchema = z.object({
  scan: z.string(),
  streams: z.array(z.string()),
  totalEvents: z.number().int(),
  /** carried in every data-plane message of the scan and checked by its receiver: peers without it are refused */
  token: z.string(),
  /** per stream, the event of its last entry in the map: an end message that comes early goes there */
  streamEnds: z.record(z.string(), z.number().int()),
});
export type ScanInfo = z.infer<typeof scanInfoSchema>;

export const updateSchema = z.discriminatedUnion('type', [
  scanInfoSchema.extend({ type: z.literal('scan') }),
  z.object({ type: z.literal('parameters'), versions: z.record(z.string(), z.string()), hash: z.string() }),
  z.object({ type: z.literal('finish'), scan: z.string() }),
  /**
   * parts (`<kind>:<name>/<instance>`) the controller gave up on: the reducer takes no more results of
   * such workers and says which it reduced; a fenced part that is still running stops
   */
  z.object({ type: z.literal('fence'), scan: z.string(), instances: z.array(z.string()) }),
]);
export type ControllerUpdate = z.infer<typeof updateSchema>;

/** What the controller keeps under `current`, so late joiners catch up without replaying updates. */
export const currentSchema = z.object({
  scan: scanInfoSchema.nullable(),
  finished: z.boolean(),
  versions: z.record(z.string(), z.string()),
  hash: z.string(),
});
export type CurrentState = z.infer<typeof currentSchema>;

export const workerTimesSchema = z.object({
  /** seconds spent waiting for the next event */
  waiting: z.number(),
  /** seconds assembling, in user code, and sending the result */
  active: z.number(),
  events: z.number().int(),
});
export type WorkerTimes = z.infer<typeof workerTimesSchema>;

export const reportSchema = z.discriminatedUnion('kind', [
  /** a component adopted the scan (its user classes are instantiated, sockets ready) */
  z.object({ kind: z.literal('ready'), component: z.string(), instance: z.string() }),
  /**
   * a worker's progress: `events` ended here (no result, or every stream missing), `sent` produced
   * results now handed to the reducer instance they are filed under (they end when it reduces them),
   * `failed` ended with a reason, `missing` lists streams that never came for an event it processed
   */
  z.object({
    kind: z.literal('done'), worker: z.string(), instance: z.string(),
    events: eventRanges, sent: z.record(z.string(), eventRanges),
    failed: z.array(z.tuple([z.number().int(), z.string()])),
    missing: z.array(z.tuple([z.number().int(), z.string(), z.string()])),
    times: workerTimesSchema,
  }),
  /** results the reducer processed since its last report, by sender `name/instance`; results its class rejected */
  z.object({
    kind: z.literal('reduced'), instance: z.string(), events: z.record(z.string(), eventRanges),
    failed: z.array(z.tuple([z.number().int(), z.string(), z.string()])),
    /** data-plane messages refused: a wrong scan token or an unknown sender */
    refused: z.number().int().nonnegative(),
  }),
  /** the reducer took no result of `sender` after its last `reduced` report (answer to a fence) */
  z.object({ kind: z.literal('fenced'), instance: z.string(), sender: z.string() }),
  /** an ingester's counters: forwarded events and their bytes, messages it could not use */
  z.object({
    kind: z.literal('ingested'), ingester: z.string(), instance: z.string(), forwarded: z.number().int(), bytes: z.number().nonnegative(),
    bad: z.array(z.tuple([z.string(), z.number().int(), z.string()])),
    /** messages before a series' start (warm-ups, the tail of an earlier series): expected noise */
    skipped: z.array(z.tuple([z.string(), z.string()])),
  }),
  z.object({ kind: z.literal('finished'), component: z.string(), instance: z.string() }),
]);
export type Report = z.infer<typeof reportSchema>;
export type DoneReport = Extract<Report, { kind: 'done' }>;
