/**
 * Region-of-interest sum over 2-D detector images: the worker sums a rectangle of every image,
 * the reducer builds the time series (index = event number) and a running mean.
 */
import type {
  EventData, ParameterDescription, Parameters, ReducerContext, ResultData, WorkerContext,
} from 'dranspose';
import { stins } from 'dranspose';

export interface RoiResult {
  frame: number;
  sum: number;
  threshold: number;
}

/** `roi` is `[y0, y1, x0, x1]` (half-open, like numpy slices) */
function readRoi(parameters: Parameters): [number, number, number, number] {
  const raw = parameters.roi?.value;
  const roi = typeof raw === 'string' ? JSON.parse(raw) : [0, 16, 0, 16];
  if (!Array.isArray(roi) || roi.length !== 4 || !roi.every(Number.isInteger)) throw new Error(`roi must be [y0, y1, x0, x1], got ${raw}`);
  return roi as [number, number, number, number];
}

export class RoiWorker {
  constructor(private readonly ctx: WorkerContext) {}

  static describeParameters(): ParameterDescription[] {
    return [
      { name: 'roi', dtype: 'str', description: 'region [y0, y1, x0, x1] of the image to sum', default: '[0, 16, 0, 16]' },
      { name: 'threshold', dtype: 'int', description: 'pixels below this value are not counted', default: 0 },
    ];
  }

  processEvent(event: EventData, parameters: Parameters): RoiResult | undefined {
    const stream = Object.values(event.streams).find((s) => s.typ === 'STINS');
    if (!stream) return undefined;
    const message = stins.parse(stream);
    if (message.kind !== 'image') return undefined;
    const [y0, y1, x0, x1] = readRoi(parameters);
    const { data, shape } = message.image;
    const width = shape[1];
    const threshold = Number(parameters.threshold?.value ?? 0);
    let sum = 0;
    for (let y = y0; y < Math.min(y1, shape[0]); y++) {
      for (let x = x0; x < Math.min(x1, width); x++) {
        const v = Number(data[y * width + x]);
        if (v >= threshold) sum += v;
      }
    }
    return { frame: Number(message.header.frame), sum, threshold };
  }
}

export class RoiReducer {
  publish: { roi_sum: number[]; frames: number; mean: number; threshold: number | null } = { roi_sum: [], frames: 0, mean: 0, threshold: null };

  constructor(private readonly ctx: ReducerContext) {}

  processResult(result: ResultData<RoiResult>): void {
    const { sum, threshold } = result.payload;
    this.publish.roi_sum[result.eventNumber - 1] = sum;
    this.publish.frames += 1;
    this.publish.threshold = threshold;
  }

  timer(): number {
    const values = this.publish.roi_sum.filter((v) => v !== undefined && v !== null);
    this.publish.mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
    return 0.5;
  }

  finish(): void {
    this.timer();
  }
}
