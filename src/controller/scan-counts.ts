/**
 * What a scan counted: its progress, and its bad frames per stream. One reading for the scan
 * history, the metrics and the dashboard.
 */
import type { Scan, ScanProgress } from './scan/scan.js';

export interface ScanCounts extends ScanProgress {
  /** bad frames per stream, as far as the scan lists them (its newest 1000) */
  bad_frames_by_stream: Record<string, number>;
}

/** `ingester/stream` of each listed bad frame, counted per stream */
function badFramesByStream(scan: Scan): Record<string, number> {
  const byStream: Record<string, number> = {};
  for (const { component } of scan.accounting.bad.latest) {
    const stream = component.slice(component.indexOf('/') + 1);
    byStream[stream] = (byStream[stream] ?? 0) + 1;
  }
  return byStream;
}

export function scanCounts(scan: Scan): ScanCounts {
  return { ...scan.progress(), bad_frames_by_stream: badFramesByStream(scan) };
}
