/** The data and user-code contracts of the pipeline (design.md §5). */
import type { Logger } from 'winston';

/** One stream's contribution to an event: the raw zmq frames of one upstream message (or bundle). */
export interface StreamData {
  typ: string;
  frames: Buffer[];
}

export interface EventData {
  eventNumber: number;
  streams: Record<string, StreamData>;
  /** streams the trigger map gave this event that did not come, with the reason (an upstream lost or broke them) */
  missing?: Record<string, string>;
}

export interface ResultData<T = unknown> {
  eventNumber: number;
  worker: string;
  parametersHash: string | null;
  payload: T;
}

export type ParameterDtype = 'str' | 'int' | 'float' | 'bool' | 'binary';

export interface ParameterDescription {
  name: string;
  dtype: ParameterDtype;
  description?: string | null;
  default?: string | number | boolean | null;
}

export type ParameterValue = string | number | boolean | Buffer | null;

/** A parameter as user code sees it: the raw bytes and the value parsed by its description. */
export interface WorkParameter {
  name: string;
  data: Buffer;
  value: ParameterValue;
  version: string;
}

export type Parameters = Record<string, WorkParameter>;

export interface WorkerContext {
  parameters: Parameters;
  /** survives from scan to scan (a new class instance is made per scan) */
  state: Record<string, unknown>;
  logger: Logger;
  name: string;
}

export type ReducerContext = WorkerContext;

export interface WorkerClass {
  new (ctx: WorkerContext): WorkerInstance;
  describeParameters?(): ParameterDescription[];
}

export interface WorkerInstance {
  /** events it may be handed before the oldest has finished (default 1); results are still one per event */
  readonly inFlight?: number;
  /** `tick` is true for at most one event per `getTickInterval()` seconds across the scan's workers */
  processEvent(event: EventData, parameters: Parameters, tick?: boolean): unknown;
  getTickInterval?(parameters: Parameters): number | undefined;
  finish?(parameters: Parameters): void | Promise<void>;
}

export interface ReducerClass {
  new (ctx: ReducerContext): ReducerInstance;
  describeParameters?(): ParameterDescription[];
}

export interface ReducerInstance {
  publish: Record<string, unknown>;
  processResult(result: ResultData, parameters: Parameters): void | Promise<void>;
  /** when present, called instead of processResult with the payload still CBOR (a Python reducer decodes it itself) */
  processEncodedResult?(result: ResultData<Buffer>, parameters: Parameters): void | Promise<void>;
  timer?(parameters: Parameters): number | void | Promise<number | void>;
  finish?(parameters: Parameters): void | Promise<void>;
}
