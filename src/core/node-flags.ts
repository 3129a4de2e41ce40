/**
 * V8 flags the parts that carry frames start with. V8 reads them only at start-up (set at run
 * time, these are ignored or crash it), so they go on node's command line: the supervisor spawns
 * parts with them, and the `dranspose` executable restarts a command started without them.
 *
 * - `--initial-old-space-size=256`: zeromq.js hands frames over as external memory; with a small
 *   old generation V8 collected garbage every few dozen MiB frames.
 * - `--expose-gc`: with that much room, garbage of a long scan piles up in the old generation (a
 *   worker's RSS grew 20 MB per million events over a dozen scans, while its live heap stayed at
 *   14 MB); each part runs a full collection once started and when a scan ends that left 16 MB
 *   more, and young collections as frames arrive (received-memory.ts).
 * - `--single-threaded-gc`, ingesters only: an ingester's heap holds little more than this code
 *   and the frames in flight, so its collections are short, and on a busy host waiting for GC
 *   helper threads made them several times longer (1 MiB frames: 1.2 s of 6 s in collections
 *   with helpers, 0.35 s without). Workers and reducers keep the helpers: their heaps hold user
 *   state of any size.
 */
const HEAP = '--initial-old-space-size=256';
const GC = '--expose-gc';

const FLAGS_BY_COMMAND: Record<string, readonly string[]> = {
  ingester: [HEAP, GC, '--single-threaded-gc'],
  worker: [HEAP, GC],
  'debug-worker': [HEAP, GC],
  reducer: [HEAP, GC],
};

/** the flags a command's process needs; none for commands that only start or talk to others */
export function nodeFlagsFor(command: string | undefined): readonly string[] {
  return (command !== undefined && Object.hasOwn(FLAGS_BY_COMMAND, command)) ? FLAGS_BY_COMMAND[command] : [];
}

/**
 * node's flags for a `command` process: the ones it needs that `given` lacks, then `given` (a
 * profiler, say); a flag given with another value counts as given
 */
export function nodeArgsFor(command: string | undefined, given: readonly string[] = process.execArgv): string[] {
  const name = (flag: string) => flag.split('=')[0];
  const present = new Set(given.map(name));
  return [...nodeFlagsFor(command).filter((flag) => !present.has(name(flag))), ...given];
}
