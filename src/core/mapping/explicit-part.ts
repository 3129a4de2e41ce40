/**
 * A part posted entry by entry. Its entries are held in typed arrays (8 bytes per stream and event)
 * instead of one array and one object per entry (≈100 bytes): the common entry, one virtual worker
 * with a constraint, is a slot and a tag set; any other entry is interned once. Slots are typed
 * arrays too (12 bytes each): outside the JS heap, a grown array's old copy is freed at once, where
 * the old copies of a grown JS array of a million elements wait in the heap for a full collection.
 */
import { MAP_LIMITS } from '../defaults.js';
import { MappingError } from './errors.js';
import { JSON_CHUNK_CHARS, Part, entryJson, type Entry, type TagRegistry, type TagSet, type VirtualWorker } from './part.js';
import { pyStr } from './pyrepr.js';
import type { EntryJson, EntryList } from './schema.js';

/** codes of an entry that is not one constrained virtual worker */
const NO_FRAME = -1;
const DISCARD = -2;
const LISTED = -3;
const GENERIC = ['generic'];
const DISCARDED: Entry = Object.freeze([]);
/** constraints below this are looked up in a typed array (at most 16 MB) */
const DENSE_CONSTRAINTS = MAP_LIMITS.entries;

/** a copy of `array` twice as long */
function grown<A extends Int32Array | Float64Array>(array: A): A {
  const copy = new (array.constructor as new (length: number) => A)(2 * array.length);
  copy.set(array);
  return copy;
}

/**
 * Constraint → slot. Posted constraints are mostly small non-negative numbers: those are found in a
 * typed array, the others in a Map (a Map of a million numbers costs ~50 MB and 100 ms to fill).
 */
class SlotTable {
  /** slot + 1 by constraint; 0: none yet */
  private dense = new Int32Array(1024);
  private readonly sparse = new Map<number, number>();

  get(constraint: number): number | undefined {
    if (constraint < 0 || constraint >= DENSE_CONSTRAINTS) return this.sparse.get(constraint);
    return constraint < this.dense.length && this.dense[constraint] ? this.dense[constraint]! - 1 : undefined;
  }

  set(constraint: number, slot: number): void {
    if (constraint < 0 || constraint >= DENSE_CONSTRAINTS) {
      this.sparse.set(constraint, slot);
      return;
    }
    if (constraint >= this.dense.length) {
      const grown = new Int32Array(Math.min(DENSE_CONSTRAINTS, Math.max(2 * this.dense.length, constraint + 1)));
      grown.set(this.dense);
      this.dense = grown;
    }
    this.dense[constraint] = slot + 1;
  }
}

export class ExplicitPart extends Part {
  /** per stream, per event: the slot of its one constrained virtual worker, or NO_FRAME, DISCARD, LISTED */
  private readonly codes: Int32Array[];
  /** per stream, per event: the tag set (index into tagSets) of that virtual worker, or the listed entry */
  private readonly refs: Int32Array[];
  private readonly tagSets: TagSet[] = [];
  private readonly tagSetIds = new Map<TagSet, number>();
  private readonly listed: Entry[] = [];
  /** per slot: its constraint (safe integers, exact in a double) and the tag set (index into tagSets) its worker needs */
  private constraints = new Float64Array(1024);
  private slotTags = new Int32Array(1024);
  readonly constraintCount: number = 0;
  /**
   * the last entry made for each stream, and the constraint code and tags it was made of: the engine
   * reads an event's entries twice, and consecutive events of one constraint share it
   */
  private readonly madeCode: Int32Array;
  private readonly madeRef: Int32Array;
  private readonly made: Entry[];
  readonly minWorkers: number;
  readonly requiredTagSets: ReadonlySet<TagSet>;
  readonly tags: ReadonlySet<string>;

  /** `lists[i]` are the entries of `streams[i]`, already checked (schema.ts); streams keep their order. */
  constructor(name: string, streams: readonly string[], lists: readonly EntryList[], registry: TagRegistry) {
    const lengths = new Set(lists.map((list) => list.length));
    if (lengths.size > 1) {
      const detail = streams.map((stream, i) => `${pyStr(stream)}: ${lists[i]!.length}`).join(', ');
      throw new MappingError(`part ${pyStr(name)}: streams have unequal numbers of events (${detail})`);
    }
    super(name, streams, lists[0]?.length ?? 0);
    const requiredTagSets = new Set<TagSet>();
    const usedTagSets = new Set<TagSet>();
    const slotOf = new SlotTable();
    const listedIds = new Map<string, number>();
    let slots = 0;
    const slotFor = (constraint: number, tagSetId: number): number => {
      let slot = slotOf.get(constraint);
      if (slot === undefined) {
        slot = slots++;
        slotOf.set(constraint, slot);
        if (slots > this.constraints.length) {
          this.constraints = grown(this.constraints);
          this.slotTags = grown(this.slotTags);
        }
        this.constraints[slot] = constraint;
        this.slotTags[slot] = tagSetId;
      } else if (this.slotTags[slot] !== tagSetId) {
        this.slotTags[slot] = this.tagSetId(registry.get([...this.tagSets[this.slotTags[slot]!]!.tags, ...this.tagSets[tagSetId]!.tags]));
      }
      return slot;
    };
    const normalise = (spec: NonNullable<EntryJson>[number]): VirtualWorker => {
      const tagSet = registry.get(spec.tags ?? GENERIC);
      usedTagSets.add(tagSet);
      const constraint = spec.constraint ?? null;
      if (constraint === null) requiredTagSets.add(tagSet);
      return { tags: tagSet, constraint, slot: constraint === null ? -1 : slotFor(constraint, this.tagSetId(tagSet)) };
    };
    const listedId = (entry: NonNullable<EntryJson>): number => {
      const vws = entry.map(normalise);
      const key = vws.map((vw) => `${vw.tags.json}${vw.constraint}`).join(' ');
      let id = listedIds.get(key);
      if (id === undefined) listedIds.set(key, (id = this.listed.push(vws) - 1));
      return id;
    };
    this.codes = lists.map(() => new Int32Array(this.length));
    this.refs = lists.map(() => new Int32Array(this.length));
    lists.forEach((list, s) => {
      const codes = this.codes[s]!;
      const refs = this.refs[s]!;
      let local = -1;
      list.forEach((entry) => {
        local++;
        if (!entry) codes[local] = NO_FRAME;
        else if (entry.length === 0) codes[local] = DISCARD;
        else if (entry.length === 1 && entry[0]!.constraint != null) {
          const tagSet = registry.get(entry[0]!.tags ?? GENERIC);
          usedTagSets.add(tagSet);
          const tagSetId = this.tagSetId(tagSet);
          codes[local] = slotFor(entry[0]!.constraint, tagSetId);
          refs[local] = tagSetId;
        } else {
          codes[local] = LISTED;
          refs[local] = listedId(entry);
        }
      });
    });
    this.constraintCount = slots;
    // the room left by doubling, given back where it is much (a copy is the peak of a large part)
    if (slots < 0.75 * this.constraints.length) {
      this.constraints = this.constraints.slice(0, slots);
      this.slotTags = this.slotTags.slice(0, slots);
    }
    for (let slot = 0; slot < slots; slot++) requiredTagSets.add(this.tagSets[this.slotTags[slot]!]!);
    this.requiredTagSets = requiredTagSets;
    this.tags = new Set([...usedTagSets].flatMap((set) => set.tags));
    this.madeCode = new Int32Array(streams.length).fill(-1);
    this.madeRef = new Int32Array(streams.length).fill(-1);
    this.made = streams.map(() => null);
    this.minWorkers = this.countMinWorkers();
  }

  constraintOf(slot: number): number { return this.constraints[slot]!; }
  constraintTagsOf(slot: number): TagSet { return this.tagSets[this.slotTags[slot]!]!; }

  entry(stream: number, local: number): Entry {
    const code = this.codes[stream]![local]!;
    if (code === NO_FRAME) return null;
    if (code === DISCARD) return DISCARDED;
    if (code === LISTED) return this.listed[this.refs[stream]![local]!]!;
    const ref = this.refs[stream]![local]!;
    if (this.madeCode[stream] !== code || this.madeRef[stream] !== ref) {
      this.made[stream] = [{ tags: this.tagSets[ref]!, constraint: this.constraints[code]!, slot: code }];
      this.madeCode[stream] = code;
      this.madeRef[stream] = ref;
    }
    return this.made[stream]!;
  }

  /** The GET shape, but runs of entries written as runs (schema.ts): a regular map stays small. */
  *compactJsonChunks(): Generator<string> {
    let chunk = '{"mapping":{';
    for (let s = 0; s < this.streams.length; s++) {
      chunk += `${s ? ',' : ''}${JSON.stringify(this.streams[s])}:[`;
      for (let local = 0; local < this.length;) {
        const [item, next] = this.runAt(s, local);
        chunk += (local ? ',' : '') + item;
        local = next;
        if (chunk.length >= JSON_CHUNK_CHARS) {
          yield chunk;
          chunk = '';
        }
      }
      chunk += ']';
    }
    yield `${chunk}}}`;
  }

  /** The run of entries of stream `s` that starts at `local`, as JSON, and where the next one starts. */
  private runAt(s: number, local: number): [string, number] {
    const codes = this.codes[s]!;
    const refs = this.refs[s]!;
    const same = (a: number, b: number) => codes[a] === codes[b] && refs[a] === refs[b];
    let end = local + 1;
    while (end < this.length && same(end, local)) end++;
    const every = end - local;
    if (codes[local]! >= 0) {
      // a ramp: blocks of `every` events, each with the next constraint, the last one maybe shorter
      let rampEnd = end;
      while (rampEnd < this.length && codes[rampEnd]! >= 0 && refs[rampEnd] === refs[local]
        && this.constraints[codes[rampEnd]!] === this.constraints[codes[rampEnd - 1]!]! + 1) {
        const blockStart = rampEnd;
        while (rampEnd < this.length && rampEnd - blockStart < every && same(rampEnd, blockStart)) rampEnd++;
        if (rampEnd - blockStart < every) break;
      }
      if (rampEnd > end) {
        const ramp = { count: rampEnd - local, first: this.constraints[codes[local]!], every, tags: this.tagSets[refs[local]!]!.tags };
        return [JSON.stringify({ ramp }), rampEnd];
      }
    }
    const entry = entryJson(this.entry(s, local));
    return every > 1 ? [`{"repeat":${every},"entry":${entry}}`, end] : [entry, end];
  }

  private tagSetId(tagSet: TagSet): number {
    let id = this.tagSetIds.get(tagSet);
    if (id === undefined) this.tagSetIds.set(tagSet, (id = this.tagSets.push(tagSet) - 1));
    return id;
  }

  private countMinWorkers(): number {
    // seenIn[slot] === mark: the slot was counted in this event (a Set per event is too slow for big parts)
    const seenIn = new Int32Array(this.constraintCount);
    let mark = 0;
    const see = (slot: number): number => {
      if (seenIn[slot] === mark) return 0;
      seenIn[slot] = mark;
      return 1;
    };
    let most = 0;
    for (let local = 0; local < this.length; local++) {
      mark = local + 1;
      let count = 0;
      for (let s = 0; s < this.codes.length; s++) {
        const code = this.codes[s]![local]!;
        if (code >= 0) count += see(code);
        else if (code === LISTED) for (const vw of this.listed[this.refs[s]![local]!]!) if (vw.slot >= 0) count += see(vw.slot);
      }
      if (count > most) most = count;
    }
    return most;
  }
}
