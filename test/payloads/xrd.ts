/** The tutorial analysis of the XRD dump: the mean of a corner of every image, by event number. */
import type { EventData, ParameterDescription, Parameters, ResultData } from '../../src/index.js';
import { stins } from '../../src/index.js';

export class CornerMeanWorker {
  static describeParameters(): ParameterDescription[] {
    return [
      { name: 'till_x', dtype: 'int', description: 'rows 0 … till_x-1', default: 2 },
      { name: 'from_y', dtype: 'int', description: 'columns from_y …', default: 8 },
    ];
  }

  processEvent(event: EventData, parameters: Parameters): number | undefined {
    const packet = stins.parse(event.streams.xrd);
    if (packet.kind !== 'image') return undefined;
    const { data, shape } = packet.image;
    const rows = Number(parameters.till_x.value);
    const from = Number(parameters.from_y.value);
    let sum = 0;
    for (let y = 0; y < rows; y++) for (let x = from; x < shape[1]; x++) sum += Number(data[y * shape[1] + x]);
    return sum / (rows * (shape[1] - from));
  }
}

export class CornerMeanReducer {
  publish: { reduced: number[] } = { reduced: [] };

  processResult(result: ResultData<number>): void {
    this.publish.reduced[result.eventNumber] = result.payload;
  }

  finish(): void {
    this.publish.reduced = Array.from(this.publish.reduced, (v) => v ?? 0);
  }
}
