/** Request-body schemas of trigger maps (reference/core.md §4.1, §6.1) and their error texts. */
import { z } from 'zod';
import { MappingError } from './errors.js';
import { pyStr } from './pyrepr.js';

/** Fields may be omitted: `{}` is a generic "all", `{"constraint": 3}` a generic constraint. */
export const virtualWorkerSchema = z.object({
  tags: z.array(z.string()).default(['generic']),
  constraint: z.int().nullable().default(null),
});
export type VirtualWorkerJson = z.output<typeof virtualWorkerSchema>;

/** `null`: no frame for this event; `[]`: read and discard; else the virtual workers to send to. */
export const entrySchema = z.array(virtualWorkerSchema).nullable();
export type EntryJson = z.output<typeof entrySchema>;

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
export type PartJson = z.output<typeof partSchema>;

/** Body of `POST /api/v1/sequence`. */
export const sequenceRequestSchema = z.object({
  parts: namedRecord(partSchema, 'part'),
  sequence: z.array(z.string()),
});
export type SequenceRequestJson = z.output<typeof sequenceRequestSchema>;

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
 * `pathPrefix` places a bare part body (`POST /api/v1/mapping`) under its part name.
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
