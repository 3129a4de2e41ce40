/**
 * The cluster-wide tick clock (core.md §1.4): at most one event per interval, across all workers of
 * a scan, is processed with `tick = true`. A worker that finds the clock taken learns from Redis
 * when it runs out and asks again only then, so a tick costs Redis a round trip per interval.
 */
import type { Redis } from 'ioredis';

export class TickClock {
  private nextPossible = 0;

  constructor(private readonly redis: Redis, private readonly key: string) {}

  /**
   * whether this event carries the tick of an interval of `seconds`; known at once (without a
   * promise) when there is no interval or the clock cannot have run out yet, as for most events
   */
  tick(seconds: number | undefined): boolean | Promise<boolean> {
    if (seconds === undefined || !(seconds > 0) || !Number.isFinite(seconds)) return false;
    const now = Date.now();
    if (now < this.nextPossible) return false;
    return this.take(now, Math.max(1, Math.round(seconds * 1000)));
  }

  private async take(now: number, ms: number): Promise<boolean> {
    if (await this.redis.set(this.key, '🕙', 'PX', ms, 'NX') === 'OK') {
      this.nextPossible = now + ms;
      return true;
    }
    this.nextPossible = now + Math.max(0, await this.redis.pttl(this.key));
    return false;
  }
}

/** the clock of one scan under a pipeline's key prefix */
export function tickClockKey(prefix: string, scan: string): string {
  return `${prefix}clock:${scan}`;
}
