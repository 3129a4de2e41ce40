/**
 * Reducers for the dashboard's tests, fed by EchoWorker (echo.ts): PlotReducer publishes what the
 * page draws, a growing 1-D series of image sums and a 2-D image that accumulates every image;
 * BigReducer a 1,000,000-point series and a 2048×2048 image.
 */
import type { NDArray, Parameters, ResultData } from '../../src/index.js';
import type { EchoResult } from './echo.js';

export class PlotReducer {
  publish: { sums: number[]; image?: NDArray<Float64Array>; label: unknown; results: number } = { sums: [], label: null, results: 0 };

  processResult(result: ResultData<EchoResult>, parameters: Parameters): void {
    const { image, streams } = result.payload;
    const sum = streams.detector?.sum;
    if (!image || sum === undefined) return;   // start and end events
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

  processResult(result: ResultData<EchoResult>): void {
    const n = ++this.publish.results;
    const from = Math.min(SERIES, (n - 1) * STEP);
    const to = Math.min(SERIES, n * STEP);
    for (let i = from; i < to; i++) this.series[i] = Math.sin(i / 5000) * 100 + (result.payload.streams.detector?.sum ?? 0) / 1000;
    this.publish.series = this.series.subarray(0, to);
    // a band of rows brightens with every result (cheap: the reducer stays responsive)
    const image = this.publish.image.data;
    const top = (n * 97) % (SIDE - BAND);
    for (let i = top * SIDE; i < (top + BAND) * SIDE; i++) image[i] += 1 + (i % SIDE) / SIDE;
  }
}
