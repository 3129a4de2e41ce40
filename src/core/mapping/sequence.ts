/** A validated trigger map: named parts played in a sequence (reference/core.md §4.1, §4.5). */
import { z } from 'zod';
import { MappingError } from './errors.js';
import { Part, TagRegistry, type VirtualWorkerSpec } from './part.js';
import { pyStr } from './pyrepr.js';
import { parseRequest, partSchema, sequenceRequestSchema, type PartJson } from './schema.js';

export const WRAP_PART = 'reserved_start_end';

export interface SequenceOptions {
  /** add the start/end event part `reserved_start_end` (query parameter `all_wrap`, default true) */
  allWrap?: boolean;
}

const uniformSchema = z.object({
  streams: z.array(z.string().refine((name) => name !== '__proto__', "stream name '__proto__' is not allowed")).min(1),
  nbPoints: z.int().nonnegative(),
});

export type SequenceJson = {
  parts: Record<string, ReturnType<Part['toJSON']>>;
  sequence: string[];
};

export class TriggerSequence {
  /** every stream of every part, sorted */
  readonly streams: string[];
  /** events of the whole sequence, wrap events included */
  readonly totalEvents: number;
  /** part names in play order, wrap entries included */
  readonly sequence: readonly string[];
  private readonly parts: ReadonlyMap<string, Part>;
  private readonly userParts: readonly Part[];

  private constructor(userParts: Part[], sequence: readonly string[], registry: TagRegistry, allWrap: boolean) {
    if (sequence.length === 0) throw new MappingError('sequence is empty: it must name at least one part');
    const parts = new Map(userParts.map((part) => [part.name, part]));
    sequence.forEach((name, index) => {
      if (!parts.has(name)) throw new MappingError(`sequence[${index}]: part ${pyStr(name)} is not defined in parts`);
    });
    const streams = new Set(userParts.flatMap((part) => part.streams));
    this.streams = [...streams].sort();
    if (allWrap) {
      if (parts.has(WRAP_PART)) throw new MappingError(`part name ${pyStr(WRAP_PART)} is reserved while all_wrap is on`);
      parts.set(WRAP_PART, TriggerSequence.wrapPart(userParts, this.streams, registry));
      this.sequence = [WRAP_PART, ...sequence, WRAP_PART];
    } else {
      this.sequence = [...sequence];
    }
    this.parts = parts;
    this.userParts = userParts;
    this.totalEvents = this.sequence.reduce((sum, name) => sum + parts.get(name)!.length, 0);
  }

  /** One event: every stream to every worker having any tag used anywhere (discarded if none is). */
  private static wrapPart(userParts: Part[], streams: string[], registry: TagRegistry): Part {
    const tags = [...new Set(userParts.flatMap((part) => [...part.tags]))].sort();
    const entries = [tags.map((tag): VirtualWorkerSpec => ({ tags: [tag], constraint: null }))];
    return new Part(WRAP_PART, streams, streams.map(() => entries), registry);
  }

  private static partFromJson(name: string, json: PartJson, registry: TagRegistry): Part {
    const streams = Object.keys(json);
    return new Part(name, streams, streams.map((stream) => json[stream]!), registry);
  }

  /** `POST /api/v1/sequence` body: `{parts: {name: {stream: [entry…]}}, sequence: [name…]}`. */
  static fromSequenceRequest(body: unknown, opts: SequenceOptions = {}): TriggerSequence {
    const request = parseRequest(sequenceRequestSchema, body);
    const registry = new TagRegistry();
    const parts = Object.entries(request.parts).map(([name, json]) => TriggerSequence.partFromJson(name, json, registry));
    return new TriggerSequence(parts, request.sequence, registry, opts.allWrap ?? true);
  }

  /** `POST /api/v1/mapping` body: one part, played once as part `main`. */
  static fromMappingRequest(body: unknown, opts: SequenceOptions = {}): TriggerSequence {
    const json = parseRequest(partSchema, body, ['parts', 'main']);
    const registry = new TagRegistry();
    return new TriggerSequence([TriggerSequence.partFromJson('main', json, registry)], ['main'], registry, opts.allWrap ?? true);
  }

  /** Every stream at event i goes to constraint i, i = 0…nbPoints-1 (the Sardana hook's map). */
  static uniform(streams: string[], nbPoints: number, opts: SequenceOptions & { partName?: string } = {}): TriggerSequence {
    const request = parseRequest(uniformSchema, { streams, nbPoints });
    const partName = opts.partName ?? 'main';
    const registry = new TagRegistry();
    const generic = ['generic'];
    const uniqueStreams = [...new Set(request.streams)];
    // one list for all streams, one tag array for all virtual workers: Part normalises each once
    const entries = Array.from({ length: request.nbPoints }, (_, i) => [{ tags: generic, constraint: i }]);
    const part = new Part(partName, uniqueStreams, uniqueStreams.map(() => entries), registry);
    return new TriggerSequence([part], [partName], registry, opts.allWrap ?? true);
  }

  /** The part played at position `index` of `sequence`. */
  partAt(index: number): Part {
    return this.parts.get(this.sequence[index]!)!;
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
    return [...sets].map((set) => ({ tags: [...set.tags], key: JSON.stringify(set.tags) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ tags }) => tags);
  }

  /** GET /api/v1/sequence shape: parts in insertion order (user parts, then the wrap part). */
  toJSON(): SequenceJson {
    const parts: SequenceJson['parts'] = {};
    for (const [name, part] of this.parts) parts[name] = part.toJSON();
    return { parts, sequence: [...this.sequence] };
  }
}
