/** What user worker and reducer modules import: the data contracts, arrays and protocol parsers. */
// the contracts carry node's Buffer: a payload project's type check needs node's types even under "types": []
/// <reference types="node" preserve="true" />
export type {
  EventData, StreamData, ResultData, Parameters, WorkParameter, ParameterDescription, ParameterDtype,
  WorkerContext, ReducerContext, WorkerClass, ReducerClass,
} from './core/types.js';
export type { NDArray, DType, TypedArray } from './core/ndarray.js';
export { ndarray, ndarrayFromBytes } from './core/ndarray.js';
export { stins } from './protocols/stins/index.js';
export { contrast } from './protocols/contrast/index.js';
export { xspress3 } from './protocols/xspress3/index.js';
export { albaem } from './protocols/albaem/index.js';
export { eigerLegacy, decodeEigerImage } from './protocols/eiger-legacy/index.js';
export { lecroy } from './protocols/lecroy/index.js';
export { pcap } from './protocols/pcap/index.js';
export { positioncap, PositioncapParser } from './protocols/positioncap/index.js';
export { sardana } from './protocols/sardana/index.js';
