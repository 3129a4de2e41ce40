/**
 * Schemas of the controller's HTTP API that are not trigger maps or scan descriptions (those live
 * with their parsers): query options the routes parse with them, and the answers. The OpenAPI
 * document (openapi.ts) is generated from these, and the tests check every answer against them.
 */
import { z } from 'zod';
import { MAP_LIMITS } from '../core/defaults.js';

const FALSE_WORDS = ['false', '0', 'False'];
/** a query flag as the original takes it: anything but false/0/False is true */
const queryFlag = (fallback: boolean, description: string) => z.string().optional()
  .transform((value) => (value === undefined ? fallback : !FALSE_WORDS.includes(value)))
  .meta({ description });

export const allWrapQuerySchema = z.object({
  all_wrap: queryFlag(true, 'add the start and end events to the map (false, 0 or False to leave them out)'),
});

export const loadQuerySchema = z.object({
  intervals: z.union([z.string(), z.array(z.string())]).optional()
    .transform((raw, ctx) => {
      const intervals = (raw === undefined ? ['1', '10'] : [raw].flat()).map(Number);
      if (intervals.some((n) => !Number.isInteger(n) || n <= 0)) {
        ctx.addIssue({ code: 'custom', message: 'intervals must be positive integers' });
        return z.NEVER;
      }
      return intervals;
    })
    .meta({ description: 'windows of the newest N events to report the load over (repeatable); default 1 and 10' }),
  scan: queryFlag(true, 'also report the load over the whole scan'),
});

export const statusQuerySchema = z.object({
  details: z.string().optional().transform((value) => ['true', '1', 'True'].includes(value ?? ''))
    .meta({ description: 'add the latest failed, lost, missing and bad frames with their events, and per-event times (true, 1 or True)' }),
});

export const scansQuerySchema = z.object({
  limit: z.coerce.number().int().positive().optional().meta({ description: 'the newest N scans only' }),
});

export const outcomeSchema = z.enum(['running', 'complete', 'complete_with_errors', 'incomplete', 'stopped']).meta({ id: 'ScanOutcome' });

export const progressSchema = z.object({
  last_assigned: z.int().meta({ description: 'events handed to workers so far' }),
  completed_events: z.int().meta({ description: 'events processed and reduced (start and end events included)' }),
  failed_events: z.int().meta({ description: 'events whose processing threw' }),
  lost_events: z.int().meta({ description: 'events no worker finished (a worker died, the scan was stopped)' }),
  missing_frames: z.int().meta({ description: 'frames of an event that never came' }),
  bad_frames: z.int().meta({ description: 'upstream messages that fit no event' }),
  total_events: z.int(),
  finished: z.boolean().meta({ description: 'every component has finished the scan' }),
  outcome: outcomeSchema,
}).meta({ id: 'Progress' });

const problemSchema = z.object({ event: z.int(), component: z.string(), reason: z.string() }).meta({ id: 'Problem' });

const problemList = z.array(problemSchema).optional().meta({ description: 'the latest 1000, with details=true' });
const reasons = z.record(z.string(), z.int()).optional().meta({ description: 'how many per reason' });

export const statusSchema = z.looseObject({
  mapping_uuid: z.string().nullable(),
  ...progressSchema.shape,
  credit: z.int().optional(),
  failed_reasons: reasons,
  lost_reasons: reasons,
  missing_reasons: reasons,
  bad_reasons: reasons,
  failed_event_list: problemList,
  lost_event_list: problemList,
  missing_frame_list: problemList,
  bad_frame_list: problemList,
  component_errors: z.record(z.string(), z.number()),
  dropped_frames: z.record(z.string(), z.number()),
}).meta({ id: 'Status', description: 'progress, assignment, credit in force, problems of the scan' });

const componentEntrySchema = z.looseObject({
  name: z.string(),
  service_uuid: z.string(),
  seen: z.number().optional().meta({ description: 'ms since the epoch of the last state written' }),
  mapping_uuid: z.string().nullable(),
  parameters_hash: z.string().nullable(),
  processed_events: z.number(),
  errors: z.number().optional().meta({ description: 'what user code threw and inputs the component refused, since it started' }),
  scan_errors: z.number().optional().meta({ description: 'the part of errors since the component adopted its current scan (mapping_uuid)' }),
  event_rate: z.number().optional(),
}).meta({ id: 'ComponentEntry' });

export const configSchema = z.object({
  ingesters: z.array(componentEntrySchema),
  workers: z.array(componentEntrySchema),
  reducer: componentEntrySchema.nullable(),
  controller_version: z.string(),
  parameters_version: z.record(z.string(), z.string()),
  parameters_hash: z.string(),
}).meta({ id: 'Config' });

const intervalLoadSchema = z.object({ total: z.number(), active: z.number(), events: z.number() });
export const loadSchema = z.record(z.string(), z.object({
  last_event: z.number(),
  intervals: z.record(z.string(), intervalLoadSchema),
})).meta({ id: 'Load', description: 'per worker: busy (active) and total seconds over windows of events' });

export const logEntrySchema = z.record(z.string(), z.string()).meta({ id: 'LogEntry', description: 'created, levelname, name, msg, …' });

export const scanRecordSchema = z.object({
  id: z.string(),
  started: z.iso.datetime(),
  ended: z.iso.datetime().nullable(),
  total_events: z.int(),
  last_assigned: z.int(),
  completed_events: z.int(),
  failed_events: z.int(),
  lost_events: z.int(),
  missing_frames: z.int(),
  bad_frames: z.int(),
  bad_frames_by_stream: z.record(z.string(), z.int()),
  outcome: outcomeSchema,
}).meta({ id: 'ScanRecord' });
export type ScanRecord = z.infer<typeof scanRecordSchema>;

export const componentStateSchema = z.object({
  component: z.string().meta({ description: 'kind:name' }),
  kind: z.string(),
  name: z.string(),
  state: z.enum(['up', 'restarted', 'gone']),
  service_uuid: z.string(),
  restarts: z.int(),
  first_seen: z.iso.datetime(),
  restarted_at: z.iso.datetime().nullable(),
  last_seen: z.iso.datetime(),
  processed_events: z.number(),
  errors: z.number(),
  event_rate: z.number(),
}).meta({ id: 'ComponentState' });
export type ComponentState = z.infer<typeof componentStateSchema>;

export const readinessSchema = z.object({ ready: z.boolean(), problems: z.array(z.string()) }).meta({ id: 'Readiness' });

export const sardanaHookSchema = z.object({
  streams: z.array(z.string()).min(1, 'streams required'),
  scan: z.looseObject({
    nb_points: z.number().int().positive('nb_points must be positive')
      .max(MAP_LIMITS.pointsPerScan, `nb_points must be at most ${MAP_LIMITS.pointsPerScan} (the limit of points per scan)`),
  }),
}).meta({ id: 'SardanaHook' });
