/** How long a reducer's `timer` asked to wait before its next call: its number of seconds, else 1. */
export function timerDelaySeconds(asked: unknown): number {
  // Infinity or NaN would make setTimeout fire at once, over and over
  return typeof asked === 'number' && Number.isFinite(asked) && asked >= 0 ? asked : 1;
}
