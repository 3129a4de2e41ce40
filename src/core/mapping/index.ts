/** Trigger maps and the credit-based assignment engine (reference/core.md §4, design.md §4). */
export { MappingError } from './errors.js';
export type { EntryJson, SequenceRequestJson } from './schema.js';
export { TriggerSequence } from './sequence.js';
export { checkAdmission } from './admission.js';
export type { WorkerSlot } from './admission.js';
export { Assigner } from './assigner.js';
export type { Assignment } from './assigner.js';
