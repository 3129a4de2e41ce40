/** Runs a long-lived part until SIGINT/SIGTERM; every failure is one clear line and exit code 1. */
import { rootLogger } from '../core/logging.js';

export function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`dranspose: ${message}\n`);
  if (process.env.DRANSPOSE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}

export async function runUntilSignal(start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  let running: { stop(): Promise<void> };
  try {
    running = await start();
  } catch (error) {
    fail(error);
  }
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await running.stop();
    } catch (error) {
      rootLogger.error(`shutdown: ${error}`);
    }
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // started through an IPC channel (by `dranspose run`, or by the executable adding V8 flags): never
  // outlive the parent, even one that died while this part was starting
  process.on('disconnect', shutdown);
  if (process.send && !process.connected) await shutdown();
}
