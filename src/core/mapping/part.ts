/** One normalised part of a trigger map and the facts about it the engine and admission need. */
import { MappingError } from './errors.js';
import { pyStr } from './pyrepr.js';

/** An interned, sorted, duplicate-free tag set; one object per distinct set within a sequence. */
export interface TagSet {
  readonly tags: readonly string[];
}

export class TagRegistry {
  private readonly byKey = new Map<string, TagSet>();
  /** shortcut for tag arrays seen before (builders share one array across many virtual workers) */
  private readonly byArray = new WeakMap<readonly string[], TagSet>();

  get(tags: readonly string[]): TagSet {
    const known = this.byArray.get(tags);
    if (known) return known;
    const sorted = [...new Set(tags)].sort();
    const key = JSON.stringify(sorted);
    let set = this.byKey.get(key);
    if (!set) {
      set = { tags: sorted };
      this.byKey.set(key, set);
    }
    this.byArray.set(tags, set);
    return set;
  }
}

/** A virtual worker as requested (the validated request JSON has this shape). */
export interface VirtualWorkerSpec {
  readonly tags: readonly string[];
  readonly constraint: number | null;
}

export interface VirtualWorker {
  readonly tags: TagSet;
  /** null: every registered worker with the tags ("all") */
  readonly constraint: number | null;
  /** dense index of the constraint within its part (Part.constraints), -1 for "all" */
  readonly slot: number;
}

/** null: the stream sends no frame; []: the frame is discarded; else the virtual workers. */
export type Entry = readonly VirtualWorker[] | null;
type SpecEntry = readonly VirtualWorkerSpec[] | null;

export class Part {
  /** number of events */
  readonly length: number;
  /** entries[i][event] belongs to streams[i] */
  readonly entries: readonly (readonly Entry[])[];
  /** constraint number of each slot, in order of first use */
  readonly constraints: readonly number[];
  /**
   * Tags a worker needs to be bound to each constraint slot: the union over every virtual worker
   * with that constraint in the part, because the bound worker receives all of their frames.
   */
  readonly constraintTags: readonly TagSet[];
  /** max over events of the number of distinct constraints */
  readonly minWorkers: number;
  /** tag sets a worker must have: those of "all" virtual workers and the constraint unions */
  readonly requiredTagSets: ReadonlySet<TagSet>;
  /** every single tag used by a virtual worker */
  readonly tags: ReadonlySet<string>;

  /** `specs[i]` are the entries of `streams[i]`; streams keep the order they were given in. */
  constructor(
    readonly name: string,
    readonly streams: readonly string[],
    specs: readonly (readonly SpecEntry[])[],
    registry: TagRegistry,
  ) {
    const lengths = new Set(specs.map((list) => list.length));
    if (lengths.size > 1) {
      const detail = streams.map((stream, i) => `${pyStr(stream)}: ${specs[i]!.length}`).join(', ');
      throw new MappingError(`part ${pyStr(name)}: streams have unequal numbers of events (${detail})`);
    }
    this.length = specs[0]?.length ?? 0;

    const slotOf = new Map<number, number>();
    const constraints: number[] = [];
    const constraintTags: TagSet[] = [];
    const requiredTagSets = new Set<TagSet>();
    const tags = new Set<string>();
    const usedTagSets = new Set<TagSet>();
    const allOf = new Map<TagSet, VirtualWorker>(); // one "all" virtual worker per tag set
    const normalise = (spec: VirtualWorkerSpec): VirtualWorker => {
      const tagSet = registry.get(spec.tags);
      if (!usedTagSets.has(tagSet)) {
        usedTagSets.add(tagSet);
        for (const tag of tagSet.tags) tags.add(tag);
      }
      if (spec.constraint === null) {
        let vw = allOf.get(tagSet);
        if (!vw) {
          allOf.set(tagSet, (vw = { tags: tagSet, constraint: null, slot: -1 }));
          requiredTagSets.add(tagSet);
        }
        return vw;
      }
      let slot = slotOf.get(spec.constraint);
      if (slot === undefined) {
        slot = constraints.push(spec.constraint) - 1;
        slotOf.set(spec.constraint, slot);
        constraintTags.push(tagSet);
      } else if (constraintTags[slot] !== tagSet) {
        constraintTags[slot] = registry.get([...constraintTags[slot]!.tags, ...tagSet.tags]);
      }
      return { tags: tagSet, constraint: spec.constraint, slot };
    };
    // builders may give several streams the same list: normalise it once
    const normalised = new Map<readonly SpecEntry[], Entry[]>();
    this.entries = specs.map((list) => {
      let entries = normalised.get(list);
      if (!entries) normalised.set(list, (entries = list.map((entry) => entry && entry.map(normalise))));
      return entries;
    });
    for (const set of constraintTags) requiredTagSets.add(set);
    this.constraints = constraints;
    this.constraintTags = constraintTags;
    this.requiredTagSets = requiredTagSets;
    this.tags = tags;
    this.minWorkers = this.countMinWorkers();
  }

  private countMinWorkers(): number {
    // seenIn[slot] = 1 + the last event the slot was counted in (a Set per event is too slow for big parts)
    const seenIn = new Int32Array(this.constraints.length);
    let most = 0;
    for (let event = 0; event < this.length; event++) {
      let count = 0;
      for (const list of this.entries) {
        for (const vw of list[event] ?? []) {
          if (vw.slot >= 0 && seenIn[vw.slot] !== event + 1) {
            seenIn[vw.slot] = event + 1;
            count++;
          }
        }
      }
      if (count > most) most = count;
    }
    return most;
  }

  /** GET /api/v1/sequence shape of one part. */
  toJSON(): { mapping: Record<string, ({ tags: string[]; constraint: number | null }[] | null)[]> } {
    const mapping: Record<string, ({ tags: string[]; constraint: number | null }[] | null)[]> = {};
    this.streams.forEach((stream, i) => {
      mapping[stream] = this.entries[i]!.map((entry) => entry && entry.map((vw) => ({ tags: [...vw.tags.tags], constraint: vw.constraint })));
    });
    return { mapping };
  }
}
