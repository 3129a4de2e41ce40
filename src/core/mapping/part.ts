/**
 * One part of a trigger map as the engine and admission read it: entries through an accessor, so a
 * part may hold them compactly or compute them (a uniform part costs O(1) in its events).
 */

/** An interned, sorted, duplicate-free tag set; one object per distinct set within a sequence. */
export interface TagSet {
  readonly tags: readonly string[];
  /** the tags as JSON */
  readonly json: string;
}

export class TagRegistry {
  private readonly byKey = new Map<string, TagSet>();
  /** shortcut for tag arrays seen before (builders share one array across many virtual workers) */
  private readonly byArray = new WeakMap<readonly string[], TagSet>();
  /** shortcut for single tags, the common case of posted maps (one array per virtual worker) */
  private readonly byTag = new Map<string, TagSet>();

  get(tags: readonly string[]): TagSet {
    const known = this.byArray.get(tags) ?? (tags.length === 1 ? this.byTag.get(tags[0]!) : undefined);
    if (known) return known;
    const sorted = [...new Set(tags)].sort();
    const json = JSON.stringify(sorted);
    let set = this.byKey.get(json);
    if (!set) {
      set = { tags: sorted, json };
      this.byKey.set(json, set);
    }
    this.byArray.set(tags, set);
    if (tags.length === 1) this.byTag.set(tags[0]!, set);
    return set;
  }
}

export interface VirtualWorker {
  readonly tags: TagSet;
  /** null: every registered worker with the tags ("all") */
  readonly constraint: number | null;
  /** dense index of the constraint within its part (see Part.constraintOf), -1 for "all" */
  readonly slot: number;
}

/** null: the stream sends no frame; []: the frame is discarded; else the virtual workers. */
export type Entry = readonly VirtualWorker[] | null;

/** JSON text pieces are about this long: big enough to write fast, small enough to stream */
export const JSON_CHUNK_CHARS = 64 * 1024;

/** an entry in the GET shape */
export function entryJson(entry: Entry): string {
  if (entry === null) return 'null';
  let out = '[';
  for (let i = 0; i < entry.length; i++) out += `${i ? ',' : ''}{"tags":${entry[i]!.tags.json},"constraint":${entry[i]!.constraint}}`;
  return `${out}]`;
}

export abstract class Part {
  constructor(
    readonly name: string,
    /** in the order they were given */
    readonly streams: readonly string[],
    /** number of events */
    readonly length: number,
  ) {}

  /** The entry of `streams[stream]` at local event `local`; valid until the next call for that stream. */
  abstract entry(stream: number, local: number): Entry;
  /** number of distinct constraints (slots 0…constraintCount-1) */
  abstract readonly constraintCount: number;
  /** the constraint number of a slot */
  abstract constraintOf(slot: number): number;
  /**
   * Tags a worker needs to be bound to a constraint slot: the union over every virtual worker with
   * that constraint in the part, because the bound worker receives all of their frames.
   */
  abstract constraintTagsOf(slot: number): TagSet;
  /** max over events of the number of distinct constraints */
  abstract readonly minWorkers: number;
  /** tag sets a worker must have: those of "all" virtual workers and the constraint unions */
  abstract readonly requiredTagSets: ReadonlySet<TagSet>;
  /** every single tag used by a virtual worker */
  abstract readonly tags: ReadonlySet<string>;
  /** The part in the stored form (`GET /api/v1/sequence?compact=true`), as JSON text pieces. */
  abstract compactJsonChunks(): Iterable<string>;

  /** The part in the `GET /api/v1/sequence` shape, `{"mapping": {stream: [entry…]}}`, as JSON text pieces. */
  *jsonChunks(): Generator<string> {
    let chunk = '{"mapping":{';
    for (let s = 0; s < this.streams.length; s++) {
      chunk += `${s ? ',' : ''}${JSON.stringify(this.streams[s])}:[`;
      for (let local = 0; local < this.length; local++) {
        chunk += (local ? ',' : '') + entryJson(this.entry(s, local));
        if (chunk.length >= JSON_CHUNK_CHARS) {
          yield chunk;
          chunk = '';
        }
      }
      chunk += ']';
    }
    yield `${chunk}}}`;
  }
}
