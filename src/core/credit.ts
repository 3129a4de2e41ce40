/**
 * How much a worker may hold unfinished (design.md §4): events, and the bytes they add up to. A
 * module of its own so that a component's process need not load the config schema to know them.
 */
export const DEFAULT_CREDIT = 1024;
export const DEFAULT_CREDIT_BYTES = 256 * 2 ** 20;
