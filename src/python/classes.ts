/**
 * Python payload classes seen through the pipeline's WorkerClass / ReducerClass contracts: each
 * instance is a handle on a Python object in the class's payload host. Events go over as their raw
 * frames, results come back (and go to a reducer) as CBOR bodies, and a Python reducer's `publish`
 * stays in Python and is read by path for the result API.
 */
import type { Logger } from 'winston';
import { EncodedResult } from '../core/encoded-result.js';
import type {
  EventData, ParameterDescription, Parameters, ReducerClass, ReducerContext, ReducerInstance, ResultData, WorkerClass,
  WorkerContext, WorkerInstance,
} from '../core/types.js';
import { encodeCbor } from '../reducer/results/cbor.js';
import { RemotePublish, type PublishRead } from '../reducer/results/remote-publish.js';
import { PythonHost, type HostKind } from './host.js';

interface Loaded {
  host: PythonHost;
  name: string;
  descriptions: ParameterDescription[];
  has: Set<string>;
}

/** Starts a host and loads `spec` in it; throws the host's one-line reason when the class is unusable. */
async function loadInHost(kind: HostKind, spec: string, cwd: string, logger: Logger): Promise<Loaded> {
  const host = await PythonHost.start(kind, cwd, logger);
  try {
    const { header } = await host.call('main', { op: 'load', spec });
    host.makeFatal();
    return { host, name: String(header.name), descriptions: header.descriptions as ParameterDescription[], has: new Set(header.has as string[]) };
  } catch (error) {
    host.close();
    throw error;
  }
}

/** Handles on Python objects: a fresh id each; the object is dropped in Python once the handle is collected here. */
let nextInstance = 1;
const dropped = new FinalizationRegistry<{ host: PythonHost; instance: number }>(({ host, instance }) => {
  host.call('main', { op: 'drop', instance }).catch(() => undefined);
});

function createInstance(loaded: Loaded, handle: object, state: Record<string, unknown>, ctx: WorkerContext): number {
  const instance = nextInstance++;
  dropped.register(handle, { host: loaded.host, instance });
  // answered before any later request on the main lane; a failure fails each of its events with the reason
  loaded.host.call('main', { op: 'new', instance, state }, ctx.parameters)
    .then(({ header }) => { (handle as { tickInterval?: number }).tickInterval = tickIntervalOf(header); })
    .catch((error: Error) => ctx.logger.error(error.message));
  return instance;
}

/** measured with a numpy ROI worker: 4 in flight gave about twice the events/s of 1 */
const PYTHON_EVENTS_IN_FLIGHT = 4;

function tickIntervalOf(header: Record<string, unknown>): number | undefined {
  return typeof header.tick_interval === 'number' ? header.tick_interval : undefined;
}

export async function loadPythonWorkerClass(spec: string, cwd: string, logger: Logger): Promise<WorkerClass> {
  const loaded = await loadInHost('worker', spec, cwd, logger);
  const { host, has } = loaded;
  class PythonWorker implements WorkerInstance {
    static describeParameters(): ParameterDescription[] { return loaded.descriptions; }
    private readonly instance: number;
    tickInterval?: number;
    /** events handed over before the oldest is back, so Python works while Node assembles and sends */
    readonly inFlight = PYTHON_EVENTS_IN_FLIGHT;

    constructor(ctx: WorkerContext) {
      this.instance = createInstance(loaded, this, { name: ctx.name }, ctx);
    }

    getTickInterval(): number | undefined { return has.has('get_tick_interval') ? this.tickInterval : undefined; }

    async processEvent(event: EventData, parameters: Parameters, tick = false): Promise<EncodedResult | undefined> {
      const streams: [string, string, number][] = [];
      const frames: Buffer[] = [];
      for (const [name, data] of Object.entries(event.streams)) {
        streams.push([name, data.typ, data.frames.length]);
        for (const frame of data.frames) frames.push(frame);
      }
      const { header, bodies } = await host.call('main', { op: 'event', instance: this.instance, event_number: event.eventNumber, streams, tick },
        parameters, frames);
      this.tickInterval = tickIntervalOf(header) ?? this.tickInterval;
      return header.result ? new EncodedResult(bodies[0]) : undefined;
    }

    async finish(parameters: Parameters): Promise<void> {
      await host.call('main', { op: 'finish', instance: this.instance }, parameters);
    }
  }
  Object.defineProperty(PythonWorker, 'name', { value: loaded.name });
  return PythonWorker;
}

export async function loadPythonReducerClass(spec: string, cwd: string, logger: Logger): Promise<ReducerClass> {
  const loaded = await loadInHost('reducer', spec, cwd, logger);
  const { host } = loaded;
  class PythonReducer implements ReducerInstance {
    static describeParameters(): ParameterDescription[] { return loaded.descriptions; }
    readonly instance: number;
    readonly publish: Record<string, unknown>;
    declare timer?: (parameters: Parameters) => Promise<number | undefined>;
    tickInterval?: number;

    constructor(ctx: ReducerContext) {
      this.instance = createInstance(loaded, this, {}, ctx);
      const read: PublishRead = async (path, outline) => {
        const { header, bodies } = await host.call('read', { op: 'read', instance: this.instance, path, outline }, ctx.parameters);
        return typeof header.missing === 'string' ? { found: false, reason: header.missing } : { found: true, body: bodies[0] };
      };
      this.publish = new RemotePublish(read) as unknown as Record<string, unknown>;
    }

    /** a result from a TypeScript worker or from replay, decoded already: encoded again for Python */
    async processResult(result: ResultData, parameters: Parameters): Promise<void> {
      await this.processEncodedResult({ ...result, payload: encodeCbor(result.payload) }, parameters);
    }

    async processEncodedResult(result: ResultData<Buffer>, parameters: Parameters): Promise<void> {
      await host.call('main', { op: 'result', instance: this.instance, event_number: result.eventNumber, worker: result.worker,
        parameters_hash: result.parametersHash }, parameters, [result.payload]);
    }

    async finish(parameters: Parameters): Promise<void> {
      await host.call('main', { op: 'finish', instance: this.instance }, parameters);
    }
  }
  // reducer.ts runs a timer only for classes that have one
  if (loaded.has.has('timer')) {
    PythonReducer.prototype.timer = async function (this: PythonReducer, parameters: Parameters) {
      const { header } = await host.call('timer', { op: 'timer', instance: this.instance }, parameters);
      return typeof header.delay === 'number' ? header.delay : undefined;
    };
  }
  Object.defineProperty(PythonReducer, 'name', { value: loaded.name });
  return PythonReducer;
}
