/** Where each stream's last frame of a trigger map goes: an end message that comes early goes there. */
import type { TriggerSequence } from './sequence.js';

/** per stream, the event of its last entry (with all_wrap: the end event, for every stream) */
export function streamEnds(sequence: TriggerSequence): Record<string, number> {
  const ends: Record<string, number> = {};
  let missing = sequence.streams.length;
  let end = sequence.totalEvents;
  // a run of one part: a stream's last entry in it is in its last instance
  const runs = sequence.playedRuns;
  for (let index = runs.length - 1; index >= 0 && missing; index--) {
    const { part, repeat } = runs[index]!;
    const start = end - part.length;
    part.streams.forEach((stream, s) => {
      if (stream in ends) return;
      for (let local = part.length - 1; local >= 0; local--) {
        if (part.entry(s, local) !== null) {
          ends[stream] = start + local;
          missing -= 1;
          return;
        }
      }
    });
    end -= part.length * repeat;
  }
  return ends;
}
