/**
 * The reducer: `processResult` gets every worker's result, one at a time; `publish` is what
 * notebooks and the dashboard read while the scan runs (GET /api/v1/result/<jsonpath>).
 */
import type { ResultData } from 'dranspose';
import type { FrameResult } from './worker.js';

export class Reducer {
  publish = { intensity: [] as number[], peak: 0, frames: 0 };

  processResult(result: ResultData<FrameResult>): void {
    const { intensity, peak } = result.payload;
    // event 0 is the series' start: image k is event k + 1
    this.publish.intensity[result.eventNumber - 1] = intensity;
    this.publish.peak = Math.max(this.publish.peak, peak);
    this.publish.frames += 1;
  }
}
