/** Capture files: raw upstream captures and ingester dumps (`.cbors`, optionally gzip). */
export { readRawCapture, RawCaptureWriter } from './raw.js';
export { readDump, DumpWriter, type DumpEvent } from './dump.js';
export { detectCaptureFormat, readCapture, type CaptureFormat } from './format.js';
export type { CaptureReadOptions } from './sequence-reader.js';
export type { CaptureWriteOptions } from './sequence-writer.js';
