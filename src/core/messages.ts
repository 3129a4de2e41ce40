/** Coordination messages on Redis (design.md §3), validated where they enter a component. */
import { z } from 'zod';

export const scanInfoSchema = z.object({
  scan: z.string(),
  streams: z.array(z.string()),
  totalEvents: z.number().int(),
});
export type ScanInfo = z.infer<typeof scanInfoSchema>;

export const updateSchema = z.discriminatedUnion('type', [
  scanInfoSchema.extend({ type: z.literal('scan') }),
  z.object({ type: z.literal('parameters'), versions: z.record(z.string(), z.string()), hash: z.string() }),
  z.object({ type: z.literal('finish'), scan: z.string() }),
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
  /** a worker finished these events; `results` counts every result it has sent this scan */
  z.object({
    kind: z.literal('done'), worker: z.string(), instance: z.string(), events: z.array(z.number().int()),
    failed: z.array(z.tuple([z.number().int(), z.string()])), results: z.number().int(), times: workerTimesSchema,
  }),
  /** the reducer's count of processed results per worker instance (`name/instance`) this scan, and results its class rejected */
  z.object({
    kind: z.literal('reduced'), counts: z.record(z.string(), z.number().int()),
    failed: z.array(z.tuple([z.number().int(), z.string(), z.string()])),
  }),
  /** an ingester's counters: forwarded events and their bytes, frames it could not parse or deliver */
  z.object({
    kind: z.literal('ingested'), ingester: z.string(), forwarded: z.number().int(), bytes: z.number().nonnegative(),
    bad: z.array(z.tuple([z.string(), z.number().int(), z.string()])),
  }),
  z.object({ kind: z.literal('finished'), component: z.string() }),
]);
export type Report = z.infer<typeof reportSchema>;

/** One batch of consecutive assignments; `a[i]` belongs to event `first + i`. */
export interface AssignmentBatch {
  first: number;
  a: Record<string, readonly string[]>[];
}
