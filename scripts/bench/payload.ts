/** Worker and reducer classes of the real-pipeline benchmark: a tiny result per image, latencies kept. */
import type { EventData, ResultData } from '../../src/index.js';
import { now } from './frames.js';

/** latencies kept per scan: enough for the latency rows, and a long scan's reducer stays flat */
const LATENCIES_KEPT = 20_000;

export class BenchWorker {
  processEvent(event: EventData): number | undefined {
    const stream = Object.values(event.streams)[0];
    if (stream?.frames.length !== 2) return undefined;
    // the send time is the only thing read: the benchmark measures the pipeline, not parsing
    const header = stream.frames[0].toString();
    const at = header.lastIndexOf('"t":');
    return at < 0 ? 0 : Number(header.slice(at + 4, -1));
  }
}

export class BenchReducer {
  /** `lastAt`: when the last result was processed, the end point the raw chain's reducer reports too */
  publish: { results: number; latencies: number[]; lastAt: number } = { results: 0, latencies: [], lastAt: 0 };

  processResult(result: ResultData<number>): void {
    this.publish.results += 1;
    this.publish.lastAt = now();
    if (result.payload && this.publish.latencies.length < LATENCIES_KEPT) this.publish.latencies.push(now() - result.payload);
  }
}
