/**
 * Who is alive, judged by the controller from the heartbeat counters in the `alive` hash. A part is
 * dead after `livenessMs` of silence counted only over rounds that the controller itself observed
 * on time: when Redis pauses or the controller's own event loop stalls, nobody's counter could
 * move, so that time is not held against anyone (a 5 s Redis pause once made the controller
 * declare every worker dead). A new instance under a known name, or a field removed by a clean
 * stop, ends the previous instance at once.
 */
export interface Beat {
  instance: string;
  count: number;
  /** how long the part's event loop had not ticked when it beat */
  busyMs: number;
  /** the event its user code was processing, if any */
  processing?: number;
}

export function parseBeat(value: string): Beat | undefined {
  const [instance, count, busy, event] = value.split(' ');
  if (!instance || !Number.isFinite(Number(count))) return undefined;
  const processing = Number(event);
  return { instance, count: Number(count), busyMs: Number(busy) || 0, ...(Number.isInteger(processing) && processing >= 0 ? { processing } : {}) };
}

export type Departure = 'silent' | 'restarted' | 'left' | 'exited';

export interface Death {
  field: string;
  instance: string;
  how: Departure;
  /** the event its user code was processing at its last beat */
  processing?: number;
}

interface Watched { instance: string; count: number; silentMs: number; busyMs: number; processing?: number }

/** a round later than this counts as this long: the rest is the controller's or Redis's stall */
const MAX_ROUND_MS = 1000;

export class LivenessMonitor {
  private readonly watched = new Map<string, Watched>();
  private lastRound?: number;

  constructor(private readonly livenessMs: number) {}

  /** one look at the `alive` hash; returns the instances that ended since the last look */
  observe(now: number, beats: Record<string, string>): Death[] {
    const elapsed = this.lastRound === undefined ? 0 : Math.min(MAX_ROUND_MS, Math.max(0, now - this.lastRound));
    this.lastRound = now;
    const deaths: Death[] = [];
    for (const [field, raw] of Object.entries(beats)) {
      const beat = parseBeat(raw);
      if (!beat) continue;
      const known = this.watched.get(field);
      if (known && known.instance !== beat.instance) deaths.push({ field, instance: known.instance, how: 'restarted', processing: known.processing });
      if (!known || known.instance !== beat.instance || known.count !== beat.count) {
        this.watched.set(field, { instance: beat.instance, count: beat.count, silentMs: 0, busyMs: beat.busyMs, processing: beat.processing });
      } else {
        known.silentMs += elapsed;
      }
    }
    for (const [field, known] of this.watched) {
      if (!(field in beats)) deaths.push({ field, instance: known.instance, how: 'left', processing: known.processing });
      else if (known.silentMs >= this.livenessMs) deaths.push({ field, instance: known.instance, how: 'silent', processing: known.processing });
    }
    for (const death of deaths) {
      if (this.watched.get(death.field)?.instance === death.instance) this.watched.delete(death.field);
    }
    return deaths;
  }

  /** a part known to have ended another way (its process exited under the supervisor); what it was processing */
  forget(field: string, instance: string): number | undefined {
    const known = this.watched.get(field);
    if (known?.instance !== instance) return undefined;
    this.watched.delete(field);
    return known.processing;
  }

  /** the live instance of a field, if any */
  instanceOf(field: string): string | undefined {
    return this.watched.get(field)?.instance;
  }

  /** how long a live part's event loop has been busy, as its last beat said */
  busyMs(field: string): number {
    return this.watched.get(field)?.busyMs ?? 0;
  }
}
