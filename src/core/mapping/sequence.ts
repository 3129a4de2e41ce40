/**
 * A validated trigger map: named parts played in a sequence (reference/core.md §4.1, §4.5). The
 * sequence is held run-length encoded and parts may be generated, so a map is as small as its
 * structure, not its number of events; its JSON is written in pieces, from that compact form.
 */
import { z } from 'zod';
import { MAP_LIMITS } from '../defaults.js';
import { MappingError } from './errors.js';
import { ExplicitPart } from './explicit-part.js';
import { parseMappingBody, parseSequenceBody } from './map-json.js';
import { JSON_CHUNK_CHARS, Part, TagRegistry } from './part.js';
import { pyStr } from './pyrepr.js';
import {
  EntryBudget, compactSequenceSchema, parsePart, parseRequest, parseSequenceRequest, parseStoredPart,
  type PartJson, type SequenceItemJson,
} from './schema.js';
import { UniformPart } from './uniform-part.js';

export const WRAP_PART = 'reserved_start_end';

export interface SequenceOptions {
  /** add the start/end event part `reserved_start_end` (query parameter `all_wrap`, default true) */
  allWrap?: boolean;
}

const uniformSchema = z.object({
  streams: z.array(z.string().refine((name) => name !== '__proto__', "stream name '__proto__' is not allowed")).min(1).max(MAP_LIMITS.streams),
  nbPoints: z.int().nonnegative().max(MAP_LIMITS.pointsPerScan, `must be at most ${MAP_LIMITS.pointsPerScan} (the limit of points per scan)`),
});

export type SequenceJson = {
  parts: Record<string, { mapping: Record<string, ({ tags: string[]; constraint: number | null }[] | null)[]> }>;
  sequence: string[];
};

/** `repeat` instances of one part in a row */
interface Run {
  readonly part: Part;
  readonly repeat: number;
}

function describeLimit(what: string, count: number, limit: number): MappingError {
  return new MappingError(`the map has ${count} ${what}, more than the limit of ${limit} ${what}`);
}

export class TriggerSequence {
  /** every stream of every part, sorted */
  readonly streams: string[];
  /** events of the whole sequence, wrap events included */
  readonly totalEvents: number;
  /** part instances that have events, in play order (the engine's view: partAt(0…playedLength-1)) */
  readonly playedLength: number;
  private readonly parts: ReadonlyMap<string, Part>;
  private readonly userParts: readonly Part[];
  /** the sequence as given, wrap entries included */
  private readonly runs: readonly Run[];
  /** runs of parts with events, and the instance index each starts at */
  private readonly played: readonly Run[];
  private readonly playedStarts: readonly number[];

  private constructor(userParts: Part[], items: readonly SequenceItemJson[], registry: TagRegistry, allWrap: boolean, stored = false) {
    if (items.length === 0) throw new MappingError('sequence is empty: it must name at least one part');
    const parts = new Map(userParts.map((part) => [part.name, part]));
    const runs: Run[] = [];
    items.forEach((item, index) => {
      const [name, repeat] = typeof item === 'string' ? [item, 1] : [item.part, item.repeat];
      const part = parts.get(name);
      if (!part) throw new MappingError(`sequence[${index}]: part ${pyStr(name)} is not defined in parts`);
      const last = runs.at(-1);
      if (last?.part === part) runs[runs.length - 1] = { part, repeat: last.repeat + repeat };
      else runs.push({ part, repeat });
    });
    const streams = new Set(userParts.flatMap((part) => part.streams));
    if (streams.size > MAP_LIMITS.streams) throw describeLimit('streams', streams.size, MAP_LIMITS.streams);
    this.streams = [...streams].sort();
    if (allWrap) {
      if (parts.has(WRAP_PART)) throw new MappingError(`part name ${pyStr(WRAP_PART)} is reserved while all_wrap is on`);
      const wrap = TriggerSequence.wrapPart(userParts, this.streams, registry);
      parts.set(WRAP_PART, wrap);
      runs.unshift({ part: wrap, repeat: 1 });
      runs.push({ part: wrap, repeat: 1 });
    }
    const instances = runs.reduce((sum, run) => sum + run.repeat, 0);
    if (instances > MAP_LIMITS.sequenceLength) throw describeLimit('part instances in its sequence', instances, MAP_LIMITS.sequenceLength);
    this.totalEvents = runs.reduce((sum, run) => sum + run.repeat * run.part.length, 0);
    if (this.totalEvents > MAP_LIMITS.eventsPerMap) throw describeLimit('events', this.totalEvents, MAP_LIMITS.eventsPerMap);
    this.parts = parts;
    // a stored map holds its wrap part among the others (see fromCompact)
    this.userParts = stored ? userParts.filter((part) => part.name !== WRAP_PART) : userParts;
    this.runs = runs;
    this.played = runs.filter((run) => run.part.length > 0);
    const starts: number[] = [];
    let played = 0;
    for (const run of this.played) {
      starts.push(played);
      played += run.repeat;
    }
    this.playedLength = played;
    this.playedStarts = starts;
  }

  /** One event: every stream to every worker having any tag used anywhere (discarded if none is). */
  private static wrapPart(userParts: Part[], streams: string[], registry: TagRegistry): Part {
    const tags = [...new Set(userParts.flatMap((part) => [...part.tags]))].sort();
    const entry = tags.map((tag) => ({ tags: [tag], constraint: null }));
    return new ExplicitPart(WRAP_PART, streams, streams.map(() => [entry]), registry);
  }

  private static explicitPart(name: string, json: PartJson, registry: TagRegistry): Part {
    const streams = Object.keys(json);
    return new ExplicitPart(name, streams, streams.map((stream) => json[stream]!), registry);
  }

  /**
   * `POST /api/v1/sequence` body: `{parts: {name: {stream: [entry…]}}, sequence: [item…]}`, an item
   * being a part name or `{"part": name, "repeat": n}`.
   */
  static fromSequenceRequest(body: unknown, opts: SequenceOptions = {}): TriggerSequence {
    const request = parseSequenceRequest(body);
    const registry = new TagRegistry();
    const parts = Object.entries(request.parts).map(([name, json]) => TriggerSequence.explicitPart(name, json, registry));
    return new TriggerSequence(parts, request.sequence, registry, opts.allWrap ?? true);
  }

  /** `POST /api/v1/sequence` body as bytes: a large one is parsed in pieces (map-json.ts). */
  static fromSequenceBody(body: Buffer, opts: SequenceOptions = {}): TriggerSequence {
    return TriggerSequence.fromSequenceRequest(parseSequenceBody(body), opts);
  }

  /** `POST /api/v1/mapping` body as bytes: a large one is parsed in pieces (map-json.ts). */
  static fromMappingBody(body: Buffer, opts: SequenceOptions = {}): TriggerSequence {
    return TriggerSequence.fromMappingRequest(parseMappingBody(body, 'main'), opts);
  }

  /** `POST /api/v1/mapping` body: one part, played once as part `main`. */
  static fromMappingRequest(body: unknown, opts: SequenceOptions = {}): TriggerSequence {
    const registry = new TagRegistry();
    const part = TriggerSequence.explicitPart('main', parsePart(body, 'main'), registry);
    return new TriggerSequence([part], ['main'], registry, opts.allWrap ?? true);
  }

  /** Every stream at event i goes to constraint i, i = 0…nbPoints-1 (the Sardana hook's map). */
  static uniform(streams: string[], nbPoints: number, opts: SequenceOptions & { partName?: string } = {}): TriggerSequence {
    const request = parseRequest(uniformSchema, { streams, nbPoints });
    const partName = opts.partName ?? 'main';
    const registry = new TagRegistry();
    const part = new UniformPart(partName, [...new Set(request.streams)], request.nbPoints, registry.get(['generic']));
    return new TriggerSequence([part], [partName], registry, opts.allWrap ?? true);
  }

  /** The compact form (`compactJson()`, the stored map) read back; a part named `reserved_start_end` is taken for the wrap part. */
  static fromCompact(json: unknown): TriggerSequence {
    const compact = parseRequest(compactSequenceSchema, json);
    const registry = new TagRegistry();
    const budget = new EntryBudget();
    const parts = Object.entries(compact.parts).map(([name, part]): Part => {
      if (!('mapping' in part)) return new UniformPart(name, part.uniform.streams, part.uniform.events, registry.get(part.uniform.tags));
      const lists = parseStoredPart(part.mapping, name, budget);
      return new ExplicitPart(name, [...lists.keys()], [...lists.values()], registry);
    });
    return new TriggerSequence(parts, compact.sequence, registry, false, true);
  }

  /** The part of the index-th instance that has events (instances of parts without events are skipped). */
  partAt(index: number): Part {
    let low = 0;
    let high = this.playedStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.playedStarts[middle]! <= index) low = middle;
      else high = middle - 1;
    }
    return this.played[low]!.part;
  }

  /** runs of parts that have events, in play order */
  get playedRuns(): readonly { readonly part: Part; readonly repeat: number }[] {
    return this.played;
  }

  /** part names in play order, wrap entries and repeats written out (for small maps) */
  get sequence(): string[] {
    return this.runs.flatMap((run) => Array<string>(run.repeat).fill(run.part.name));
  }

  /** Max over all events of all parts (played or not) of the number of distinct constraints in one event. */
  minWorkers(): number {
    return this.userParts.reduce((most, part) => Math.max(most, part.minWorkers), 0);
  }

  /**
   * Tag sets some registered worker must have, sorted: those of "all" virtual workers and the tag
   * union of each constraint, in the user's parts (the wrap part's single tags are implied).
   */
  requiredTags(): string[][] {
    const sets = new Set(this.userParts.flatMap((part) => [...part.requiredTagSets]));
    return [...sets].map((set) => ({ tags: [...set.tags], key: set.json }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ tags }) => tags);
  }

  /**
   * `GET /api/v1/sequence` (the original's shape, every entry written out) as JSON text pieces:
   * parts in insertion order (user parts, then the wrap part), then the sequence.
   */
  *jsonChunks(): Generator<string> {
    yield* this.partChunks((part) => part.jsonChunks());
    let chunk = '';
    let first = true;
    for (const run of this.runs) {
      const item = JSON.stringify(run.part.name);
      for (let i = 0; i < run.repeat; i++) {
        chunk += first ? item : `,${item}`;
        first = false;
        if (chunk.length >= JSON_CHUNK_CHARS) {
          yield chunk;
          chunk = '';
        }
      }
    }
    yield `${chunk}]}`;
  }

  /**
   * The compact form (`GET /api/v1/sequence?compact=true`, and what Redis keeps): explicit parts as
   * in the GET shape, a uniform part as `{"uniform": {streams, events, tags}}`, and a run of one
   * part as `{"part": name, "repeat": n}`.
   */
  *compactJsonChunks(): Generator<string> {
    yield* this.partChunks((part) => part.compactJsonChunks());
    yield `${this.runs.map((run) => JSON.stringify(run.repeat === 1 ? run.part.name : { part: run.part.name, repeat: run.repeat })).join(',')}]}`;
  }

  /** the compact form as one text */
  compactJson(): string {
    return [...this.compactJsonChunks()].join('');
  }

  /** the GET shape as an object (for small maps: every entry becomes an object) */
  toJSON(): SequenceJson {
    return JSON.parse([...this.jsonChunks()].join('')) as SequenceJson;
  }

  private *partChunks(chunksOf: (part: Part) => Iterable<string>): Generator<string> {
    let separator = '{"parts":{';
    for (const [name, part] of this.parts) {
      yield `${separator}${JSON.stringify(name)}:`;
      yield* chunksOf(part);
      separator = ',';
    }
    yield `${separator === ',' ? '' : separator}},"sequence":[`;
  }
}
