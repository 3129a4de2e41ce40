/**
 * The scans this controller ran (`GET /api/v1/scans`): id, start, end, events, outcome, newest
 * first, and the counts of all of them added up, which the metrics serve as counters that never
 * go back when a new scan starts.
 */
import type { Scan } from './scan/scan.js';
import type { ScanRecord } from './api-schemas.js';
import { scanCounts, type ScanCounts } from './scan-counts.js';

export type ScanTotals = Pick<ScanCounts, 'last_assigned' | 'completed_events' | 'failed_events' | 'lost_events' | 'missing_frames' | 'bad_frames' | 'bad_frames_by_stream'> & { scans: number };

const KEPT_SCANS = 200;

function emptyTotals(): ScanTotals {
  return { scans: 0, last_assigned: 0, completed_events: 0, failed_events: 0, lost_events: 0, missing_frames: 0, bad_frames: 0, bad_frames_by_stream: {} };
}

function addInto(totals: ScanTotals, counts: ScanCounts): void {
  totals.last_assigned += counts.last_assigned;
  totals.completed_events += counts.completed_events;
  totals.failed_events += counts.failed_events;
  totals.lost_events += counts.lost_events;
  totals.missing_frames += counts.missing_frames;
  totals.bad_frames += counts.bad_frames;
  for (const [stream, n] of Object.entries(counts.bad_frames_by_stream)) {
    totals.bad_frames_by_stream[stream] = (totals.bad_frames_by_stream[stream] ?? 0) + n;
  }
}

export class ScanHistory {
  /** finished records, oldest first */
  private readonly past: ScanRecord[] = [];
  /** the scan whose counts still move: read live until the next scan replaces it */
  private current?: { scan: Scan; started: string; ended: string | null };
  /** every scan before the current one, added up */
  private readonly retired = emptyTotals();

  /** a scan was set; the one before it, finished or not, keeps the counts it reached */
  started(scan: Scan): void {
    if (this.current) this.retire(this.current);
    this.current = { scan, started: new Date().toISOString(), ended: null };
  }

  /** the controller told the components that the scan is over (complete, or stopped) */
  finished(scan: Scan): void {
    if (this.current?.scan === scan) this.current.ended ??= new Date().toISOString();
  }

  private retire(entry: NonNullable<ScanHistory['current']>): void {
    const counts = scanCounts(entry.scan);
    const record = this.record(entry, counts);
    // a scan replaced before it finished was stopped by the new one
    if (record.outcome === 'running') record.outcome = 'stopped';
    record.ended ??= new Date().toISOString();
    this.past.push(record);
    if (this.past.length > KEPT_SCANS) this.past.splice(0, this.past.length - KEPT_SCANS);
    addInto(this.retired, counts);
    this.retired.scans += 1;
  }

  private record(entry: NonNullable<ScanHistory['current']>, counts: ScanCounts): ScanRecord {
    const { total_events, last_assigned, completed_events, failed_events, lost_events, missing_frames, bad_frames, bad_frames_by_stream, outcome } = counts;
    return {
      id: entry.scan.id, started: entry.started, ended: entry.ended,
      total_events, last_assigned, completed_events, failed_events, lost_events, missing_frames, bad_frames, bad_frames_by_stream, outcome,
    };
  }

  /** newest first */
  list(): ScanRecord[] {
    const current = this.current ? [this.record(this.current, scanCounts(this.current.scan))] : [];
    return [...current, ...[...this.past].reverse()];
  }

  /** the counts of every scan this controller ran, the current one as far as it got */
  totals(): ScanTotals {
    const totals: ScanTotals = { ...this.retired, bad_frames_by_stream: { ...this.retired.bad_frames_by_stream } };
    if (this.current) {
      addInto(totals, scanCounts(this.current.scan));
      totals.scans += 1;
    }
    return totals;
  }
}
