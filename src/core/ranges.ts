/**
 * Event numbers on the coordination plane as runs: `[first, count, first, count, …]`. Completions and
 * assignments mostly come in consecutive runs, so a report of 64 events costs two numbers, not 64.
 */
export type EventRanges = number[];

/** the runs of `events` (any order, duplicates kept once) */
export function toRanges(events: Iterable<number>): EventRanges {
  const sorted = [...events].sort((a, b) => a - b);
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

export function* eventsOf(ranges: EventRanges): Generator<number> {
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    for (let event = ranges[i]; event < ranges[i] + ranges[i + 1]; event++) yield event;
  }
}

export function countOf(ranges: EventRanges): number {
  let count = 0;
  for (let i = 1; i < ranges.length; i += 2) count += ranges[i];
  return count;
}
