/**
 * A reducer whose `publish` holds what a control room follows live, computed from the event
 * numbers of the results it gets: a centre of mass, an ROI sum per event, a mean spectrum, an
 * image and a text; the Tango device serves chosen values of it (`tango.results`).
 */
import type { ResultData } from '../../src/index.js';

export interface LivePublish {
  com: { x: number; y: number };
  roi_sum: number[];
  mean_spectrum: number[];
  image: number[][];
  label: string;
  events: number;
}

export class LiveResultReducer {
  publish: LivePublish = { com: { x: 0, y: 0 }, roi_sum: [], mean_spectrum: [0, 0, 0, 0], image: [[0, 0, 0], [0, 0, 0]], label: 'idle', events: 0 };

  processResult(result: ResultData): void {
    const n = result.eventNumber;
    const p = this.publish;
    p.events += 1;
    p.com = { x: n / 2, y: -n };
    p.roi_sum.push(10 * n);
    p.mean_spectrum = [n, n + 1, n + 2, n + 3];
    p.image = [[n, n + 1, n + 2], [n + 3, n + 4, n + 5]];
    p.label = `event ${n}`;
  }
}
