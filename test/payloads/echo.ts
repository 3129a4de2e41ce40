/** Test classes: the worker reports what each event held; the reducer keeps every result per event. */
import type { EventData, NDArray, ParameterDescription, Parameters, ResultData, WorkerContext } from '../../src/index.js';
import { stins } from '../../src/index.js';

export interface EchoResult {
  worker: string;
  /** the last image of the event, as the parser gave it */
  image?: NDArray;
  label: unknown;
  streams: Record<string, { kind: string; frame?: number; sum?: number; frames: number }>;
}

export class EchoWorker {
  constructor(private readonly ctx: WorkerContext) {}

  static describeParameters(): ParameterDescription[] {
    return [
      { name: 'label', dtype: 'str', description: 'copied into every result', default: 'none' },
      { name: 'fail_on', dtype: 'int', description: 'processEvent throws on this event number', default: -1 },
      { name: 'delay_ms', dtype: 'int', description: 'time spent per event', default: 0 },
      { name: 'exit_on', dtype: 'int', description: 'the worker process dies on this event number', default: -1 },
    ];
  }

  async processEvent(event: EventData, parameters: Parameters): Promise<EchoResult> {
    if (event.eventNumber === parameters.fail_on?.value) throw new Error(`asked to fail on event ${event.eventNumber}`);
    if (event.eventNumber === parameters.exit_on?.value) process.exit(3);
    const delay = Number(parameters.delay_ms?.value ?? 0);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const streams: EchoResult['streams'] = {};
    let image: NDArray | undefined;
    for (const [name, data] of Object.entries(event.streams)) {
      if (data.typ !== 'STINS') { streams[name] = { kind: data.typ, frames: data.frames.length }; continue; }
      const packet = stins.parse(data);
      if (packet.kind === 'image') image = packet.image;
      streams[name] = packet.kind === 'image'
        ? { kind: 'image', frame: Number(packet.header.frame), sum: (packet.image.data as Uint16Array).reduce((a, b) => a + b, 0), frames: data.frames.length }
        : { kind: packet.kind, frames: data.frames.length };
    }
    return { worker: this.ctx.name, label: parameters.label?.value ?? null, streams, ...(image ? { image } : {}) };
  }
}

export class EchoReducer {
  publish: { events: Record<string, (EchoResult & { hash: string | null })[]>; results: number; last_image?: NDArray } = { events: {}, results: 0 };

  private lastImageEvent = -1;

  processResult(result: ResultData<EchoResult>): void {
    if (result.payload.label === 'reducer-fails') throw new Error('reducer asked to fail');
    const { image, ...rest } = result.payload;
    (this.publish.events[result.eventNumber] ??= []).push({ ...rest, hash: result.parametersHash });
    // results arrive in any order across workers: keep the image of the newest event
    if (image && result.eventNumber > this.lastImageEvent) {
      this.publish.last_image = image;
      this.lastImageEvent = result.eventNumber;
    }
    this.publish.results += 1;
  }
}

/** A worker class whose constructor throws: the worker must keep acknowledging events. */
export class BrokenWorker {
  constructor() { throw new Error('broken on purpose'); }
  processEvent(): undefined { return undefined; }
}
