/** Where each stream's last frame of a trigger map goes: an end message that comes early goes there. */
import type { TriggerSequence } from './sequence.js';

/** per stream, the event of its last entry (with all_wrap: the end event, for every stream) */
export function streamEnds(sequence: TriggerSequence): Record<string, number> {
  const ends: Record<string, number> = {};
  let missing = sequence.streams.length;
  let end = sequence.totalEvents;
  for (let index = sequence.sequence.length - 1; index >= 0 && missing; index--) {
    const part = sequence.partAt(index);
    const start = end - part.length;
    part.streams.forEach((stream, s) => {
      if (stream in ends) return;
      for (let local = part.length - 1; local >= 0; local--) {
        if (part.entries[s]![local] !== null) {
          ends[stream] = start + local;
          missing -= 1;
          return;
        }
      }
    });
    end = start;
  }
  return ends;
}
