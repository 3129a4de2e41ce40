/**
 * Runs a long-lived part until SIGINT/SIGTERM; every failure is one clear line and a non-zero exit.
 * A part started by `dranspose run` tells its supervisor over IPC when it is ready, or why it failed.
 */
import { rootLogger } from '../core/logging.js';
import { collectAfterStart, keepFreedMemory } from '../core/received-memory.js';
import type { PartMessage } from '../controller/supervisor.js';

/** stopping may wait on a Redis that is gone; past this the process exits anyway */
const STOP_LIMIT_MS = 10_000;

function tellSupervisor(message: PartMessage): void {
  if (process.send && process.connected) process.send(message);
}

export function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  tellSupervisor({ type: 'failed', reason: message });
  process.stderr.write(`dranspose: ${message}\n`);
  if (process.env.DRANSPOSE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}

export interface Running {
  stop(): Promise<void>;
  /** resolves with a reason when the part must end on its own (exit code 3) */
  ended?: Promise<string>;
}

export async function runUntilSignal(start: () => Promise<Running>): Promise<void> {
  let running: Running | undefined;
  let stopping = false;
  const shutdown = async (code = 0) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      process.stderr.write('dranspose: stopping took too long; exiting\n');
      process.exit(code || 1);
    }, STOP_LIMIT_MS).unref();
    try {
      await running?.stop();
    } catch (error) {
      rootLogger.error(`shutdown: ${error}`);
    }
    process.exit(code);
  };
  // signals during start-up stop too (a run waiting for its parts, a controller waiting for Redis)
  process.on('SIGINT', () => { void shutdown(); });
  process.on('SIGTERM', () => { void shutdown(); });
  // started through an IPC channel (by `dranspose run`, or by the executable adding V8 flags): never
  // outlive the parent, even one that died while this part was starting
  process.on('disconnect', () => { void shutdown(); });
  if (process.send && !process.connected) await shutdown();
  keepFreedMemory();
  try {
    running = await start();
  } catch (error) {
    fail(error);
  }
  if (stopping || !running) return;
  tellSupervisor({ type: 'ready' });
  // what start-up left behind, and the young generation it grew, need not stay (received-memory.ts)
  collectAfterStart();
  running.ended?.then((reason) => {
    process.stderr.write(`dranspose: ${reason}\n`);
    void shutdown(3);
  });
}
