/**
 * The part of a uniform map (the Sardana hook's): every stream at local event i goes to constraint
 * i. Its entries are computed when read, so it costs O(1) in its events however long the scan.
 */
import { Part, type Entry, type TagSet } from './part.js';

export class UniformPart extends Part {
  readonly minWorkers: number;
  readonly requiredTagSets: ReadonlySet<TagSet>;
  readonly tags: ReadonlySet<string>;
  /** every stream has the same entry at an event: the last one made serves them all */
  private madeFor = -1;
  private made: Entry = null;

  constructor(name: string, streams: readonly string[], length: number, private readonly tagSet: TagSet) {
    super(name, streams, length);
    const used = length > 0 && streams.length > 0;
    this.minWorkers = used ? 1 : 0;
    this.requiredTagSets = new Set(used ? [tagSet] : []);
    this.tags = new Set(used ? tagSet.tags : []);
  }

  get constraintCount(): number { return this.length; }
  constraintOf(slot: number): number { return slot; }
  constraintTagsOf(): TagSet { return this.tagSet; }

  entry(_stream: number, local: number): Entry {
    if (this.madeFor !== local) {
      this.made = [{ tags: this.tagSet, constraint: local, slot: local }];
      this.madeFor = local;
    }
    return this.made;
  }

  *compactJsonChunks(): Generator<string> {
    yield JSON.stringify({ uniform: { streams: this.streams, events: this.length, tags: this.tagSet.tags } });
  }
}
