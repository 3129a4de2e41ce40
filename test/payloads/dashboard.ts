/**
 * Test classes for the dashboard: the worker sums each image (and fails on request); the reducer
 * publishes what the page draws, a growing 1-D series and an accumulating 2-D image; BigReducer
 * publishes a 1,000,000-point series and a 2048×2048 image.
 */
import type { EventData, NDArray, ParameterDescription, Parameters, ResultData } from '../../src/index.js';
import { stins } from '../../src/index.js';

export interface SumResult { sum: number; image: NDArray }

export class SumWorker {
  static describeParameters(): ParameterDescription[] {
    return [
      { name: 'label', dtype: 'str', description: 'copied into publish', default: 'none' },
      { name: 'fail_on', dtype: 'int', description: 'processEvent throws on this event number', default: -1 },
    ];
  }

  processEvent(event: EventData, parameters: Parameters): SumResult | undefined {
    if (event.eventNumber === parameters.fail_on?.value) throw new Error(`asked to fail on event ${event.eventNumber}`);
    const packet = stins.parse(event.streams.detector);
    if (packet.kind !== 'image') return undefined;
    let sum = 0;
    for (const v of packet.image.data as Uint16Array) sum += v;
    return { sum, image: packet.image };
  }
}

export class SumReducer {
  publish: { sums: number[]; image?: NDArray<Float64Array>; label: unknown; results: number } = { sums: [], label: null, results: 0 };

  processResult(result: ResultData<SumResult>, parameters: Parameters): void {
    const { sum, image } = result.payload;
    this.publish.sums[result.eventNumber - 1] = sum;
    this.publish.image ??= { data: new Float64Array(image.data.length), shape: image.shape, dtype: 'float64' };
    const total = this.publish.image.data;
    for (let i = 0; i < total.length; i++) total[i] += Number(image.data[i]);
    this.publish.label = parameters.label?.value ?? null;
    this.publish.results += 1;
  }
}

const SERIES = 1_000_000;
const SIDE = 2048;
/** series points each result adds */
const STEP = 50_000;
/** image rows each result adds to */
const BAND = 64;

export class BigReducer {
  private readonly series = new Float64Array(SERIES);
  publish: { series: Float64Array; image: NDArray<Float64Array>; results: number } = {
    series: this.series.subarray(0, 0),
    image: { data: new Float64Array(SIDE * SIDE), shape: [SIDE, SIDE], dtype: 'float64' },
    results: 0,
  };

  processResult(result: ResultData<SumResult>): void {
    const n = ++this.publish.results;
    const from = Math.min(SERIES, (n - 1) * STEP);
    const to = Math.min(SERIES, n * STEP);
    for (let i = from; i < to; i++) this.series[i] = Math.sin(i / 5000) * 100 + result.payload.sum / 1000;
    this.publish.series = this.series.subarray(0, to);
    // a band of rows brightens with every result (cheap: the reducer stays responsive)
    const image = this.publish.image.data;
    const top = (n * 97) % (SIDE - BAND);
    for (let i = top * SIDE; i < (top + BAND) * SIDE; i++) image[i] += 1 + (i % SIDE) / SIDE;
  }
}
