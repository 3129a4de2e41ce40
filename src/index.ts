/** What user worker and reducer modules import: the data contracts, arrays and protocol parsers. */
export type {
  EventData, StreamData, ResultData, Parameters, WorkParameter, ParameterDescription, ParameterDtype,
  WorkerContext, ReducerContext, WorkerClass, ReducerClass,
} from './core/types.js';
export type { NDArray, DType, TypedArray } from './core/ndarray.js';
export { ndarray, ndarrayFromBytes } from './core/ndarray.js';
export { stins } from './protocols/stins/index.js';
