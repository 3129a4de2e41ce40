/**
 * The worker: `processEvent` runs on every event of a scan, on several workers in parallel (each
 * gets a share of the events). It returns what the reducer needs, kept small, or undefined.
 */
import type { EventData, ParameterDescription, Parameters, WorkerContext } from 'dranspose';
import { stins } from 'dranspose';

export interface FrameResult {
  frame: number;
  /** sum of the pixels at or above the threshold */
  intensity: number;
  /** the brightest pixel */
  peak: number;
}

export class Worker {
  /** a new instance per scan; ctx.state is kept from one scan to the next, ctx.logger logs to the pipeline */
  constructor(private readonly ctx: WorkerContext) {}

  /** parameters a scientist sets: in params.json for replay, live over HTTP or Tango */
  static describeParameters(): ParameterDescription[] {
    return [{ name: 'threshold', dtype: 'int', description: 'pixels below this value are not counted', default: 0 }];
  }

  processEvent(event: EventData, parameters: Parameters): FrameResult | undefined {
    // stream names come from the pipeline configuration (pipeline.yaml) or the replay's -f STREAM=…
    const detector = event.streams.detector;
    if (!detector) return undefined;
    const packet = stins.parse(detector);
    // the series' start and end messages reach every worker; they carry no image
    if (packet.kind !== 'image') return undefined;
    const threshold = Number(parameters.threshold?.value ?? 0);
    let intensity = 0;
    let peak = 0;
    for (const pixel of packet.image.data) {
      const value = Number(pixel);
      if (value >= threshold) intensity += value;
      if (value > peak) peak = value;
    }
    return { frame: Number(packet.header.frame), intensity, peak };
  }
}
