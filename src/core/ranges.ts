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
