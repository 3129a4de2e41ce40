/**
 * Scan descriptions (`POST /api/v1/scan`, docs/hooks.md): what a scan program knows before a scan
 * (points, frames per point, which stream sends on which frame) turned into a trigger map.
 *
 * Each point is one part instance whose frames all carry constraint 0. Constraints bind afresh in
 * every part instance (reference/core.md §4.1), so all frames of a point reach one worker while
 * successive points spread over the workers, and the map holds one point, not the whole scan:
 * points in which the same streams take part share one part, the sequence plays them in order.
 */
import { z } from 'zod';
import { describeIssues } from '../core/validation.js';
import { MappingError, type EntryJson, type SequenceRequestJson } from '../core/mapping/index.js';
import { pyList, pySet, pyStr } from '../core/mapping/pyrepr.js';

/** Beyond these a description is a mistake, and its map would not fit the controller's memory. */
export const MAX_POINTS = 1_000_000;
export const MAX_FRAMES_PER_POINT = 100_000;

const count = (max: number) => z.int({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be an integer') })
  .min(1, 'must be at least 1').max(max, `must be at most ${max}`);

/** Rejects what a JSON object cannot be and what zod's record would drop (an own `__proto__` key). */
function jsonObject<T extends z.ZodType>(what: string, schema: T) {
  return z.preprocess((input, ctx) => {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      ctx.addIssue({ code: 'custom', message: `${what} must be a JSON object`, input });
      return z.NEVER;
    }
    if (Object.hasOwn(input, '__proto__')) ctx.addIssue({ code: 'custom', message: "name '__proto__' is not allowed", input });
    return input;
  }, schema);
}

const streamOptionsSchema = z.strictObject({
  /** the stream takes part in points 0, every, 2·every, … only */
  every: count(MAX_POINTS).default(1),
  /** frames it sends per point, on the last frame of each of that many equal blocks; default: all */
  frames_per_point: count(MAX_FRAMES_PER_POINT).optional(),
});

const common = {
  /** streams of the scan; default: every stream some ingester serves */
  streams: z.array(z.string())
    .min(1, 'streams must name at least one stream (leave it out to use all available streams)')
    .refine((names) => new Set(names).size === names.length, 'streams must not name a stream twice')
    .optional(),
  stream_options: jsonObject('stream_options', z.record(z.string(), streamOptionsSchema)).default({}),
  /** tags of the virtual workers of every frame */
  tags: z.array(z.string()).min(1, 'tags must name at least one tag').default(['generic']),
  /** leave out requested streams no ingester serves, instead of refusing the scan (for hooks) */
  skip_unavailable: z.boolean().default(false),
};

const KINDS = "kind must be 'step', 'burst' or 'fly'";

export const scanDescriptionSchema = jsonObject('a scan description', z.preprocess(
  (input) => (Object.hasOwn(input as object, 'kind') ? input : { ...(input as object), kind: 'step' }),
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('step'), nb_points: count(MAX_POINTS), ...common }),
    z.strictObject({
      kind: z.literal('burst'), nb_points: count(MAX_POINTS),
      frames_per_point: count(MAX_FRAMES_PER_POINT), ...common,
    }),
    z.strictObject({
      kind: z.literal('fly'), lines: count(MAX_POINTS),
      frames_per_line: count(MAX_FRAMES_PER_POINT), ...common,
    }),
  ], { error: KINDS }),
));

export type ScanDescription = z.output<typeof scanDescriptionSchema>;

/** Validates a request body; a failure becomes one MappingError naming every wrong field. */
export function parseScanDescription(body: unknown): ScanDescription {
  const result = scanDescriptionSchema.safeParse(body);
  if (result.success) return result.data;
  throw new MappingError(`invalid scan description: ${describeIssues(result.error)}`);
}

export interface ScanMap {
  /** the trigger map, as a `POST /api/v1/sequence` body */
  map: SequenceRequestJson;
  /** requested streams left out because no ingester serves them (`skip_unavailable`) */
  skipped: string[];
}

interface StreamPlan {
  name: string;
  every: number;
  /** the stream sends on frame j of a point when (j + 1) % stride === 0 */
  stride: number;
}

function chooseStreams(description: ScanDescription, available: readonly string[]): { requested: string[]; chosen: string[]; skipped: string[] } {
  const requested = description.streams ?? [...available];
  const served = new Set(available);
  const skipped = requested.filter((name) => !served.has(name));
  const offer = available.length ? `available: ${pyList(available)}` : 'no ingester serves any stream';
  if (skipped.length && !description.skip_unavailable) throw new MappingError(`streams ${pySet(skipped)} not available (${offer})`);
  const chosen = requested.filter((name) => served.has(name));
  if (!chosen.length) {
    throw new MappingError(description.streams ? `none of the streams ${pyList(requested)} is available (${offer})` : `no streams available: ${offer}`);
  }
  return { requested, chosen, skipped };
}

function planStreams(description: ScanDescription, requested: string[], chosen: string[], framesPerPoint: number): StreamPlan[] {
  for (const name of Object.keys(description.stream_options)) {
    if (!requested.includes(name)) throw new MappingError(`stream_options: ${pyStr(name)} is not one of the scan's streams ${pyList(requested)}`);
  }
  return chosen.map((name) => {
    const options = description.stream_options[name];
    const frames = options?.frames_per_point ?? framesPerPoint;
    if (framesPerPoint % frames !== 0) {
      throw new MappingError(`stream_options.${name}.frames_per_point: ${frames} does not divide the scan's ${framesPerPoint} frames per point`);
    }
    return { name, every: options?.every ?? 1, stride: framesPerPoint / frames };
  });
}

/** One point in which `taking` streams take part: frames on which nobody sends are left out. */
function pointPart(streams: StreamPlan[], taking: boolean[], framesPerPoint: number, tags: string[]): Record<string, EntryJson[]> {
  const frame: EntryJson = [{ tags, constraint: 0 }];
  const part: Record<string, EntryJson[]> = Object.fromEntries(streams.map((s) => [s.name, []]));
  for (let j = 0; j < framesPerPoint; j++) {
    const sends = streams.map((s, k) => taking[k]! && (j + 1) % s.stride === 0);
    if (!sends.includes(true)) continue;
    streams.forEach((s, k) => part[s.name]!.push(sends[k] ? frame : null));
  }
  return part;
}

/** The trigger map of a described scan over the streams ingesters serve now (`available`). */
export function scanMap(description: ScanDescription, available: readonly string[]): ScanMap {
  const [points, framesPerPoint] = description.kind === 'step' ? [description.nb_points, 1]
    : description.kind === 'burst' ? [description.nb_points, description.frames_per_point]
      : [description.lines, description.frames_per_line];
  const { requested, chosen, skipped } = chooseStreams(description, available);
  const streams = planStreams(description, requested, chosen, framesPerPoint);
  const parts: SequenceRequestJson['parts'] = {};
  const partNames = new Map<string, string>(); // which streams take part ('0'/'1' per stream) → part name
  const partOf = (taking: boolean[]): string => {
    const key = taking.map(Number).join('');
    let name = partNames.get(key);
    if (name === undefined) {
      name = taking.every(Boolean) ? 'point' : `point ${JSON.stringify(streams.filter((_, k) => taking[k]).map((s) => s.name))}`;
      partNames.set(key, name);
      parts[name] = pointPart(streams, taking, framesPerPoint, description.tags);
    }
    return name;
  };
  // the common case, every point alike, needs no loop over a million points: one run of one part
  if (streams.every((s) => s.every === 1)) return { map: { parts, sequence: [{ part: partOf(streams.map(() => true)), repeat: points }] }, skipped };
  const sequence: string[] = [];
  for (let point = 0; point < points; point++) {
    const taking = streams.map((s) => point % s.every === 0);
    if (taking.includes(true)) sequence.push(partOf(taking));
  }
  return { map: { parts, sequence }, skipped };
}
