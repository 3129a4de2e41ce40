/**
 * A part posted entry by entry. Its entries are held in typed arrays (8 bytes per stream and event)
 * instead of one array and one object per entry (≈100 bytes): the common entry, one virtual worker
 * with a constraint, is a slot and a tag set; any other entry is interned once.
 */
import { MappingError } from './errors.js';
import { Part, type Entry, type TagRegistry, type TagSet, type VirtualWorker } from './part.js';
import { pyStr } from './pyrepr.js';
import type { EntryJson } from './schema.js';

/** codes of an entry that is not one constrained virtual worker */
const NO_FRAME = -1;
const DISCARD = -2;
const LISTED = -3;
const GENERIC = ['generic'];
const DISCARDED: Entry = Object.freeze([]);

export class ExplicitPart extends Part {
  /** per stream, per event: the slot of its one constrained virtual worker, or NO_FRAME, DISCARD, LISTED */
  private readonly codes: Int32Array[];
  /** per stream, per event: the tag set (index into tagSets) of that virtual worker, or the listed entry */
  private readonly refs: Int32Array[];
  private readonly tagSets: TagSet[] = [];
  private readonly tagSetIds = new Map<TagSet, number>();
  private readonly listed: Entry[] = [];
  private readonly constraints: number[] = [];
  private readonly slotTags: TagSet[] = [];
  /** the last entry made for each stream: the engine reads an event's entries twice */
  private readonly madeFor: Int32Array;
  private readonly made: Entry[];
  readonly minWorkers: number;
  readonly requiredTagSets: ReadonlySet<TagSet>;
  readonly tags: ReadonlySet<string>;

  /** `lists[i]` are the entries of `streams[i]`, already checked (schema.ts); streams keep their order. */
  constructor(name: string, streams: readonly string[], lists: readonly (readonly EntryJson[])[], registry: TagRegistry) {
    const lengths = new Set(lists.map((list) => list.length));
    if (lengths.size > 1) {
      const detail = streams.map((stream, i) => `${pyStr(stream)}: ${lists[i]!.length}`).join(', ');
      throw new MappingError(`part ${pyStr(name)}: streams have unequal numbers of events (${detail})`);
    }
    super(name, streams, lists[0]?.length ?? 0);
    const requiredTagSets = new Set<TagSet>();
    const usedTagSets = new Set<TagSet>();
    const slotOf = new Map<number, number>();
    const listedIds = new Map<string, number>();
    const slotFor = (constraint: number, tagSet: TagSet): number => {
      let slot = slotOf.get(constraint);
      if (slot === undefined) {
        slot = this.constraints.push(constraint) - 1;
        slotOf.set(constraint, slot);
        this.slotTags.push(tagSet);
      } else if (this.slotTags[slot] !== tagSet) {
        this.slotTags[slot] = registry.get([...this.slotTags[slot]!.tags, ...tagSet.tags]);
      }
      return slot;
    };
    const normalise = (spec: NonNullable<EntryJson>[number]): VirtualWorker => {
      const tagSet = registry.get(spec.tags ?? GENERIC);
      usedTagSets.add(tagSet);
      const constraint = spec.constraint ?? null;
      if (constraint === null) requiredTagSets.add(tagSet);
      return { tags: tagSet, constraint, slot: constraint === null ? -1 : slotFor(constraint, tagSet) };
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
      for (let local = 0; local < list.length; local++) {
        const entry = list[local];
        if (!entry) codes[local] = NO_FRAME;
        else if (entry.length === 0) codes[local] = DISCARD;
        else if (entry.length === 1 && entry[0]!.constraint != null) {
          const tagSet = registry.get(entry[0]!.tags ?? GENERIC);
          usedTagSets.add(tagSet);
          codes[local] = slotFor(entry[0]!.constraint, tagSet);
          refs[local] = this.tagSetId(tagSet);
        } else {
          codes[local] = LISTED;
          refs[local] = listedId(entry);
        }
      }
    });
    for (const set of this.slotTags) requiredTagSets.add(set);
    this.requiredTagSets = requiredTagSets;
    this.tags = new Set([...usedTagSets].flatMap((set) => set.tags));
    this.madeFor = new Int32Array(streams.length).fill(-1);
    this.made = streams.map(() => null);
    this.minWorkers = this.countMinWorkers();
  }

  get constraintCount(): number { return this.constraints.length; }
  constraintOf(slot: number): number { return this.constraints[slot]!; }
  constraintTagsOf(slot: number): TagSet { return this.slotTags[slot]!; }

  entry(stream: number, local: number): Entry {
    const code = this.codes[stream]![local]!;
    if (code === NO_FRAME) return null;
    if (code === DISCARD) return DISCARDED;
    if (code === LISTED) return this.listed[this.refs[stream]![local]!]!;
    if (this.madeFor[stream] !== local) {
      this.made[stream] = [{ tags: this.tagSets[this.refs[stream]![local]!]!, constraint: this.constraints[code]!, slot: code }];
      this.madeFor[stream] = local;
    }
    return this.made[stream]!;
  }

  compactJsonChunks(): Iterable<string> {
    return this.jsonChunks();
  }

  private tagSetId(tagSet: TagSet): number {
    let id = this.tagSetIds.get(tagSet);
    if (id === undefined) this.tagSetIds.set(tagSet, (id = this.tagSets.push(tagSet) - 1));
    return id;
  }

  private countMinWorkers(): number {
    // seenIn[slot] = 1 + the last event the slot was counted in (a Set per event is too slow for big parts)
    const seenIn = new Int32Array(this.constraints.length);
    let most = 0;
    for (let local = 0; local < this.length; local++) {
      let count = 0;
      for (let s = 0; s < this.codes.length; s++) {
        const code = this.codes[s]![local]!;
        const slots = code >= 0 ? [code] : code === LISTED ? this.listed[this.refs[s]![local]!]!.map((vw) => vw.slot) : [];
        for (const slot of slots) {
          if (slot >= 0 && seenIn[slot] !== local + 1) {
            seenIn[slot] = local + 1;
            count++;
          }
        }
      }
      if (count > most) most = count;
    }
    return most;
  }
}
