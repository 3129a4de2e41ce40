/** Trigger maps and the credit-based assignment engine (reference/core.md §4, design.md §4). */
export { MappingError } from './errors.js';
export { virtualWorkerSchema, entrySchema, partSchema, sequenceRequestSchema } from './schema.js';
export type { VirtualWorkerJson, EntryJson, PartJson, SequenceRequestJson } from './schema.js';
export { TriggerSequence, WRAP_PART } from './sequence.js';
export type { SequenceOptions, SequenceJson } from './sequence.js';
export { checkAdmission } from './admission.js';
export type { WorkerSlot, AvailableResources } from './admission.js';
export { Assigner } from './assigner.js';
export type { Assignment, AssignerOptions } from './assigner.js';
