/** A worker for the Tango tests: one parameter of every type, copied into every result (EchoReducer keeps them). */
import type { EventData, ParameterDescription, Parameters, WorkerContext } from '../src/index.js';

export interface ParameterResult {
  worker: string;
  label: null;
  streams: Record<string, never>;
  values: { gain: unknown; roi_size: unknown; enabled: unknown; note: unknown; calibration: string | null };
}

export class ParameterWorker {
  constructor(private readonly ctx: WorkerContext) {}

  static describeParameters(): ParameterDescription[] {
    return [
      { name: 'gain', dtype: 'float', description: 'detector gain', default: 1.5 },
      { name: 'roi_size', dtype: 'int', description: 'region of interest, pixels', default: 4 },
      { name: 'enabled', dtype: 'bool', description: 'analysis on', default: true },
      { name: 'note', dtype: 'str', description: 'free text', default: 'none' },
      { name: 'calibration', dtype: 'binary', description: 'calibration file' },
      { name: 'fail_on', dtype: 'int', description: 'processEvent throws on this event number', default: -1 },
    ];
  }

  processEvent(event: EventData, parameters: Parameters): ParameterResult {
    if (event.eventNumber === parameters.fail_on?.value) throw new Error(`asked to fail on event ${event.eventNumber}`);
    return {
      worker: this.ctx.name, label: null, streams: {},
      values: {
        gain: parameters.gain?.value, roi_size: parameters.roi_size?.value, enabled: parameters.enabled?.value,
        note: parameters.note?.value, calibration: parameters.calibration?.data.toString('utf8') ?? null,
      },
    };
  }
}
