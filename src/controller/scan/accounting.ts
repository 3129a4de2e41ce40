/**
 * How every event of a scan ended, counted exactly: completed, failed (with the reason) or lost
 * (with the reason); streams that never came for an event (missing) and upstream messages that fit
 * no event (bad) are counted beside. Counts are exact whatever the scan's length; the lists that
 * explain them keep the latest entries and a total per reason.
 */
import type { AccountingSnapshot, ProblemLogSnapshot } from './checkpoint.js';

export type Outcome = 'running' | 'complete' | 'complete_with_errors' | 'incomplete' | 'stopped';

export interface Problem { event: number; component: string; reason: string }

const LIST_LIMIT = 1000;

/** the newest problems of one kind and how many there were per reason */
export class ProblemLog {
  readonly latest: Problem[] = [];
  readonly byReason = new Map<string, number>();
  total = 0;

  add(problem: Problem): void {
    this.total += 1;
    const reason = problem.reason.length > 200 ? `${problem.reason.slice(0, 200)}…` : problem.reason;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    this.latest.push(problem);
    if (this.latest.length > LIST_LIMIT) this.latest.splice(0, this.latest.length - LIST_LIMIT);
  }

  reasons(): Record<string, number> {
    return Object.fromEntries([...this.byReason].sort((a, b) => b[1] - a[1]).slice(0, 50));
  }

  /** the newest `n` entries */
  tail(n: number): Problem[] {
    return this.latest.slice(-n);
  }

  snapshot(): ProblemLogSnapshot {
    return { latest: this.tail(100), byReason: [...this.byReason], total: this.total };
  }

  restore(snapshot: ProblemLogSnapshot): void {
    this.latest.splice(0, this.latest.length, ...snapshot.latest);
    this.byReason.clear();
    for (const [reason, count] of snapshot.byReason) this.byReason.set(reason, count);
    this.total = snapshot.total;
  }
}

const FAILED = 1;
const LOST = 2;

/**
 * The end of each event that did not simply complete: one byte per event, allocated on the first
 * failure or loss (a clean scan costs nothing). Lost outranks failed.
 */
class EventMarks {
  private marks?: Uint8Array;
  failed = 0;
  lost = 0;

  constructor(private readonly totalEvents: number) {}

  mark(event: number, mark: typeof FAILED | typeof LOST): boolean {
    if (event < 0 || event >= this.totalEvents) return false;
    this.marks ??= new Uint8Array(this.totalEvents);
    const before = this.marks[event];
    if (before >= mark) return false;
    this.marks[event] = mark;
    if (before === FAILED) this.failed -= 1;
    if (mark === FAILED) this.failed += 1;
    else this.lost += 1;
    return true;
  }
}

export class ScanAccounting {
  private readonly marks: EventMarks;
  /** events never handed to any worker when the scan ended early */
  private unassignedLost = 0;
  readonly failures = new ProblemLog();
  readonly losses = new ProblemLog();
  readonly missing = new ProblemLog();
  readonly bad = new ProblemLog();
  /** messages before a series' start: counted, but not a fault of the scan */
  readonly skipped = new ProblemLog();
  /** data-plane messages refused by the reducer (no token, unknown sender) */
  refused = 0;
  stopped = false;
  endReason?: string;

  constructor(private readonly totalEvents: number) {
    this.marks = new EventMarks(totalEvents);
  }

  failed(event: number, component: string, reason: string): void {
    this.failures.add({ event, component, reason });
    this.marks.mark(event, FAILED);
  }

  lost(event: number, component: string, reason: string): void {
    if (this.marks.mark(event, LOST)) this.losses.add({ event, component, reason });
  }

  /** events from `first` on that no worker was ever given */
  lostUnassigned(first: number, reason: string): void {
    const count = Math.max(0, this.totalEvents - first);
    if (!count) return;
    this.unassignedLost += count;
    this.losses.total += count;
    this.losses.byReason.set(reason, (this.losses.byReason.get(reason) ?? 0) + count);
  }

  get failedEvents(): number { return this.marks.failed; }
  get lostEvents(): number { return this.marks.lost + this.unassignedLost; }

  /** events that ended well, given how many ended at all */
  completedEvents(ended: number): number {
    return Math.max(0, ended - this.marks.failed - this.marks.lost);
  }

  snapshot(): AccountingSnapshot {
    return {
      failed: this.marks.failed, lost: this.marks.lost, unassignedLost: this.unassignedLost,
      failures: this.failures.snapshot(), losses: this.losses.snapshot(), missing: this.missing.snapshot(),
      bad: this.bad.snapshot(), skipped: this.skipped.snapshot(), refused: this.refused, stopped: this.stopped,
      ...(this.endReason ? { endReason: this.endReason } : {}),
    };
  }

  /** the counts of a checkpoint (which events failed or were lost is not kept: only how many) */
  restore(s: AccountingSnapshot): void {
    this.marks.failed = s.failed;
    this.marks.lost = s.lost;
    this.unassignedLost = s.unassignedLost;
    this.failures.restore(s.failures);
    this.losses.restore(s.losses);
    this.missing.restore(s.missing);
    this.bad.restore(s.bad);
    this.skipped.restore(s.skipped);
    this.refused = s.refused;
    this.stopped = s.stopped;
    this.endReason = s.endReason;
  }

  outcome(finished: boolean): Outcome {
    if (!finished) return 'running';
    if (this.stopped) return 'stopped';
    if (this.lostEvents) return 'incomplete';
    if (this.failedEvents || this.missing.total || this.bad.total || this.refused) return 'complete_with_errors';
    return 'complete';
  }
}
