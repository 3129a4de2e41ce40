/**
 * Request bodies of trigger maps (reference/core.md §4.1, §6.1): their schemas, their caps and
 * their error texts.
 *
 * A posted map may hold millions of entries. zod takes 0.4 s and a copy of the whole tree for 1M
 * entries, so bodies are checked by a hand-written walk (`checkSequenceRequest`, `checkPart`)
 * that also applies the caps; zod describes only the first wrong node it finds (small), so error
 * texts stay zod's.
 */
import { z } from 'zod';
import { MAP_LIMITS } from '../defaults.js';
import { MappingError } from './errors.js';
import { pyStr } from './pyrepr.js';

/** Fields may be omitted: `{}` is a generic "all", `{"constraint": 3}` a generic constraint. */
export const virtualWorkerSchema = z.object({
  tags: z.array(z.string()).default(['generic']),
  constraint: z.int().nullable().default(null),
});
export type VirtualWorkerJson = z.input<typeof virtualWorkerSchema>;

/** `null`: no frame for this event; `[]`: read and discard; else the virtual workers to send to. */
export const entrySchema = z.array(virtualWorkerSchema).nullable();
export type EntryJson = z.input<typeof entrySchema>;

/** zod's record silently drops an own `__proto__` key, which would lose a part or stream. */
function namedRecord<T extends z.ZodType>(value: T, what: string) {
  return z.preprocess((input, ctx) => {
    if (input !== null && typeof input === 'object' && Object.hasOwn(input, '__proto__')) {
      ctx.addIssue({ code: 'custom', message: `${what} name '__proto__' is not allowed`, input });
    }
    return input;
  }, z.record(z.string(), value));
}

/** One part: stream name → one entry per event. */
export const partSchema = namedRecord(z.array(entrySchema), 'stream');
export type PartJson = Record<string, EntryJson[]>;

/** `"main"`, or `{"part": "main", "repeat": 1000}` for a run of the same part. */
export const sequenceItemSchema = z.union([
  z.string(),
  z.strictObject({ part: z.string(), repeat: z.int().min(1) }),
]);
export type SequenceItemJson = z.input<typeof sequenceItemSchema>;

/** Body of `POST /api/v1/sequence`. */
export const sequenceRequestSchema = z.object({
  parts: namedRecord(partSchema, 'part'),
  sequence: z.array(sequenceItemSchema),
});
export interface SequenceRequestJson {
  parts: Record<string, PartJson>;
  sequence: SequenceItemJson[];
}

const LOCATION_LABELS = ['part', 'stream', 'entry', 'virtual worker'];
const MAX_REPORTED_ISSUES = 3;

/** `parts.main.eiger.3.0.constraint` → `part 'main', stream 'eiger', entry 3, virtual worker 0, constraint`. */
function describeLocation(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'request body';
  if (path[0] !== 'parts') return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i ? '.' : ''}${String(key)}`)).join('');
  if (path.length === 1) return 'parts';
  const labelled = path.slice(1, 1 + LOCATION_LABELS.length)
    .map((key, i) => `${LOCATION_LABELS[i]} ${typeof key === 'string' ? pyStr(key) : String(key)}`);
  const field = path.slice(1 + LOCATION_LABELS.length)
    .map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('').replace(/^\./, '');
  return field ? `${labelled.join(', ')}, ${field}` : labelled.join(', ');
}

/**
 * Validates a request body; a failure becomes one MappingError naming where the body is wrong.
 * `pathPrefix` places a node inside the body (a bare part of `POST /api/v1/mapping` under its name).
 */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown, pathPrefix: PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const described = issues.slice(0, MAX_REPORTED_ISSUES)
    .map((issue) => `${describeLocation([...pathPrefix, ...issue.path])}: ${issue.message}`);
  const more = issues.length > MAX_REPORTED_ISSUES ? ` (and ${issues.length - MAX_REPORTED_ISSUES} more)` : '';
  throw new MappingError(`invalid trigger map: ${described.join('; ')}${more}`);
}

/** The first wrong node of a body: zod describes it, placed at its path. */
export class WrongNode {
  constructor(readonly schema: z.ZodType, readonly value: unknown, readonly path: PropertyKey[]) {}

  throw(): never {
    parseRequest(this.schema, this.value, this.path);
    throw new MappingError(`invalid trigger map: ${describeLocation(this.path)}: not a valid value`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVirtualWorker(value: unknown): boolean {
  if (!isObject(value)) return false;
  const { tags, constraint } = value;
  if (tags !== undefined && !(Array.isArray(tags) && tags.every((tag) => typeof tag === 'string'))) return false;
  return constraint === undefined || constraint === null || Number.isSafeInteger(constraint);
}

function limitError(what: string, count: number, limit: number, unit: string): MappingError {
  return new MappingError(`${what} has ${count} ${unit}, more than the limit of ${limit} ${unit}`);
}

/** an entry list read from a large body when it is built (no value JSON.parse makes has methods) */
function isLazyList(value: unknown): value is EntryList {
  return isObject(value) && typeof (value as Partial<EntryList>).forEach === 'function';
}

/** Counts entries over all parts of one body against MAP_LIMITS.entries. */
export class EntryBudget {
  private used = 0;

  take(count: number): void {
    this.used += count;
    if (this.used > MAP_LIMITS.entries) throw limitError('the map', this.used, MAP_LIMITS.entries, 'entries (all streams of all posted parts)');
  }
}

/** Checks one entry and its cap; returns the first wrong node, or null. */
export function checkEntry(entry: unknown, path: PropertyKey[]): WrongNode | null {
  if (entry === null) return null;
  if (!Array.isArray(entry)) return new WrongNode(entrySchema, entry, path);
  if (entry.length > MAP_LIMITS.virtualWorkersPerEntry) {
    throw limitError(describeLocation(path), entry.length, MAP_LIMITS.virtualWorkersPerEntry, 'virtual workers');
  }
  for (let i = 0; i < entry.length; i++) {
    if (!isVirtualWorker(entry[i])) return new WrongNode(virtualWorkerSchema, entry[i], [...path, i]);
  }
  return null;
}

/** Checks one part body and its caps; returns the first wrong node, or null. */
function checkPart(part: unknown, path: PropertyKey[], budget: EntryBudget): WrongNode | null {
  if (!isObject(part)) return new WrongNode(partSchema, part, path);
  if (Object.hasOwn(part, '__proto__')) return new WrongNode(namedRecord(z.unknown(), 'stream'), part, path);
  const streams = Object.keys(part);
  if (streams.length > MAP_LIMITS.streams) throw limitError(describeLocation(path), streams.length, MAP_LIMITS.streams, 'streams');
  for (const stream of streams) {
    const list = part[stream];
    if (isLazyList(list)) {
      budget.take(list.length); // its entries are checked as they are read (map-json.ts)
      continue;
    }
    if (!Array.isArray(list)) return new WrongNode(z.array(entrySchema), list, [...path, stream]);
    budget.take(list.length);
    for (let event = 0; event < list.length; event++) {
      const wrong = checkEntry(list[event], [...path, stream, event]);
      if (wrong) return wrong;
    }
  }
  return null;
}

/** A part body (`POST /api/v1/mapping`, or a part of a sequence), checked, with its caps. */
export function parsePart(body: unknown, name: string): PartJson {
  checkPart(body, ['parts', name], new EntryBudget())?.throw();
  return body as PartJson;
}

function checkSequenceItems(sequence: unknown): WrongNode | null {
  if (!Array.isArray(sequence)) return new WrongNode(z.array(sequenceItemSchema), sequence, ['sequence']);
  if (sequence.length > MAP_LIMITS.sequenceItems) throw limitError('sequence', sequence.length, MAP_LIMITS.sequenceItems, 'items');
  for (let i = 0; i < sequence.length; i++) {
    const item: unknown = sequence[i];
    if (typeof item === 'string') continue;
    const run = isObject(item) && Object.keys(item).length === 2 ? item : undefined;
    if (!run || typeof run.part !== 'string' || !Number.isSafeInteger(run.repeat) || (run.repeat as number) < 1) {
      return new WrongNode(sequenceItemSchema, item, ['sequence', i]);
    }
  }
  return null;
}

/** Body of `POST /api/v1/sequence`, checked, with its caps. */
export function parseSequenceRequest(body: unknown): SequenceRequestJson {
  if (!isObject(body)) return new WrongNode(sequenceRequestSchema, body, []).throw();
  const { parts } = body;
  if (!isObject(parts) || Object.hasOwn(parts, '__proto__')) return new WrongNode(namedRecord(z.unknown(), 'part'), parts, ['parts']).throw();
  const names = Object.keys(parts);
  if (names.length > MAP_LIMITS.parts) throw limitError('the map', names.length, MAP_LIMITS.parts, 'parts');
  const budget = new EntryBudget();
  for (const name of names) checkPart(parts[name], ['parts', name], budget)?.throw();
  checkSequenceItems(body.sequence)?.throw();
  return body as unknown as SequenceRequestJson;
}

/**
 * Runs in the stored form of an explicit part, beside plain entries: one entry `repeat` times, or
 * a ramp of one virtual worker whose constraint starts at `first` and grows by one every `every`
 * events (`[{"constraint": i // 10}]` for a million events is one ramp).
 */
const runSchema = z.union([
  z.strictObject({ repeat: z.int().min(1), entry: entrySchema }),
  z.strictObject({ ramp: z.strictObject({ count: z.int().min(1), first: z.int(), every: z.int().min(1), tags: z.array(z.string()) }) }),
]);
type RunJson = z.output<typeof runSchema>;

/** a stream's entries, as a list (an array is one), read from bytes or computed from runs */
export interface EntryList {
  readonly length: number;
  /**
   * `visit` with each entry in turn. An entry is read-only and valid during its visit only: a list
   * of a million entries reuses one object rather than make a million.
   */
  forEach(visit: (entry: EntryJson) => void): void;
}

function visitRuns(items: readonly (EntryJson | RunJson)[], visit: (entry: EntryJson) => void): void {
  for (const item of items) {
    if (item === null || Array.isArray(item)) visit(item);
    else if ('repeat' in item) for (let i = 0; i < item.repeat; i++) visit(item.entry);
    else {
      const vw = { tags: item.ramp.tags, constraint: item.ramp.first };
      const entry = [vw];
      for (let j = 0; j < item.ramp.count; j++) {
        vw.constraint = item.ramp.first + Math.floor(j / item.ramp.every);
        visit(entry);
      }
    }
  }
}

/** One stream of a stored explicit part (entries and runs), checked, as the entries it stands for. */
function storedEntries(items: unknown, path: PropertyKey[], budget: EntryBudget): EntryList {
  if (!Array.isArray(items)) return new WrongNode(z.array(entrySchema), items, path).throw();
  let length = 0;
  const parsed = items.map((item: unknown, i): EntryJson | RunJson => {
    if (item === null || Array.isArray(item)) {
      checkEntry(item, [...path, i])?.throw();
      length += 1;
      return item as EntryJson;
    }
    const run = parseRequest(runSchema, item, [...path, i]);
    const count = 'repeat' in run ? run.repeat : run.ramp.count;
    if ('ramp' in run && !Number.isSafeInteger(run.ramp.first + Math.ceil(count / run.ramp.every))) {
      throw new MappingError(`invalid trigger map: ${describeLocation([...path, i])}: constraints beyond the safe integers`);
    }
    length += count;
    return run;
  });
  budget.take(length);
  return { length, forEach: (visit) => visitRuns(parsed, visit) };
}

/** The `mapping` of a stored explicit part: stream → entries and runs. */
export function parseStoredPart(mapping: unknown, name: string, budget = new EntryBudget()): Map<string, EntryList> {
  const path = ['parts', name];
  if (!isObject(mapping) || Object.hasOwn(mapping, '__proto__')) return new WrongNode(partSchema, mapping, path).throw();
  const streams = Object.keys(mapping);
  if (streams.length > MAP_LIMITS.streams) throw limitError(describeLocation(path), streams.length, MAP_LIMITS.streams, 'streams');
  return new Map(streams.map((stream) => [stream, storedEntries(mapping[stream], [...path, stream], budget)]));
}

/** `{"uniform": …}`: the generated part of a uniform map, as stored and shown by `?compact=true`. */
export const uniformPartSchema = z.strictObject({
  uniform: z.strictObject({
    streams: z.array(z.string()).min(1).max(MAP_LIMITS.streams),
    events: z.int().min(0).max(MAP_LIMITS.pointsPerScan),
    tags: z.array(z.string()),
  }),
});
export type UniformPartJson = z.output<typeof uniformPartSchema>;

/** `GET /api/v1/sequence?compact=true` and the stored map: explicit parts in the GET shape, generated parts by their rule. */
export const compactSequenceSchema = z.object({
  parts: z.record(z.string(), z.union([z.strictObject({ mapping: z.unknown() }), uniformPartSchema])),
  sequence: z.array(sequenceItemSchema),
});
