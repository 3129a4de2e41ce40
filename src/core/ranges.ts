/**
 * Event numbers on the coordination plane as runs: `[first, count, first, count, …]`. Completions and
 * assignments mostly come in consecutive runs, so a report of 64 events costs two numbers, not 64.
 */
export type EventRanges = number[];

/** the runs of `events` (any order, duplicates kept once) */
export function toRanges(events: Iterable<number>): EventRanges {
  let sorted = Array.isArray(events) ? events as number[] : [...events];
  // events mostly come in increasing order, and then need no sorted copy
  if (!ascending(sorted)) sorted = [...sorted].sort((a, b) => a - b);
  const ranges: EventRanges = [];
  for (const event of sorted) {
    const last = ranges.length - 2;
    if (last >= 0 && event <= ranges[last] + ranges[last + 1]) {
      if (event === ranges[last] + ranges[last + 1]) ranges[last + 1] += 1;
      continue;
    }
    ranges.push(event, 1);
  }
  return ranges;
}

function ascending(events: readonly number[]): boolean {
  for (let i = 1; i < events.length; i++) if (events[i] < events[i - 1]) return false;
  return true;
}

/** the events of `ranges`, in the order of the runs (a list, not a generator: this runs per report) */
export function eventList(ranges: EventRanges): number[] {
  const events: number[] = [];
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    for (let event = ranges[i]; event < ranges[i] + ranges[i + 1]; event++) events.push(event);
  }
  return events;
}

/** calls `f` with each event of `ranges`, in the order of the runs (without a list of them) */
export function forEachEvent(ranges: EventRanges, f: (event: number) => void): void {
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    for (let event = ranges[i], end = ranges[i] + ranges[i + 1]; event < end; event++) f(event);
  }
}

/** the highest event of `ranges`; -Infinity when they hold none */
export function lastOf(ranges: EventRanges): number {
  let last = -Infinity;
  for (let i = 0; i + 1 < ranges.length; i += 2) if (ranges[i + 1] > 0) last = Math.max(last, ranges[i] + ranges[i + 1] - 1);
  return last;
}

export function countOf(ranges: EventRanges): number {
  let count = 0;
  for (let i = 1; i < ranges.length; i += 2) count += ranges[i];
  return count;
}

/**
 * Events gathered one at a time as runs, for events that end in bursts of consecutive ones: adding
 * the next event of a run costs a counter, and the runs are sorted and merged once, when taken.
 */
export class RangesBuilder {
  private ranges: EventRanges = [];
  /** the runs are in increasing order, apart and without overlap */
  private ordered = true;

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  add(event: number): void {
    const last = this.ranges.length - 2;
    if (last >= 0) {
      const end = this.ranges[last] + this.ranges[last + 1];
      if (event === end) {
        this.ranges[last + 1] += 1;
        return;
      }
      if (event < end) this.ordered = false;
    }
    this.ranges.push(event, 1);
  }

  /** the runs so far, sorted and merged; empties the builder */
  take(): EventRanges {
    const ranges = this.ordered ? this.ranges : mergedRuns(this.ranges);
    this.ranges = [];
    this.ordered = true;
    return ranges;
  }
}

/** runs in any order, overlapping or not, as sorted disjoint runs */
function mergedRuns(ranges: EventRanges): EventRanges {
  const starts: number[] = [];
  for (let i = 0; i + 1 < ranges.length; i += 2) starts.push(i);
  starts.sort((a, b) => ranges[a] - ranges[b]);
  const merged: EventRanges = [];
  for (const i of starts) {
    const [first, count] = [ranges[i], ranges[i + 1]];
    const last = merged.length - 2;
    if (last >= 0 && first <= merged[last] + merged[last + 1]) {
      merged[last + 1] = Math.max(merged[last + 1], first + count - merged[last]);
    } else {
      merged.push(first, count);
    }
  }
  return merged;
}
