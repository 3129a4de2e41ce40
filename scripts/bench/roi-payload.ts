/** The worker of the Python-worker bench row, in TypeScript: the ROI sum of a STINS image. */
import type { EventData } from '../../src/index.js';
import { stins } from '../../src/index.js';
import { ROI } from './roi.js';

export class RoiWorker {
  processEvent(event: EventData): { roi: number } | undefined {
    const packet = stins.parse(event.streams.det);
    if (packet.kind !== 'image') return undefined;
    const { data, shape } = packet.image;
    const width = shape[1];
    let roi = 0;
    for (let y = ROI.top; y < ROI.bottom; y++) {
      for (let x = y * width + ROI.left, end = y * width + ROI.right; x < end; x++) roi += data[x] as number;
    }
    return { roi };
  }
}

/** The reducer of the pipeline measurement: counts results and notes when the last one came. */
export class RoiCountReducer {
  publish = { results: 0, lastAt: 0 };

  processResult(): void {
    this.publish.results += 1;
    this.publish.lastAt = performance.timeOrigin + performance.now();
  }
}
