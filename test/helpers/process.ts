/** Child processes of the tests: Debian's Python, a promisified execFile, and stopping a child for sure. */
import { execFile, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/** Debian's Python: the one that imports python3-tango, numpy, cbor2 and lz4 (pyenv's python3 on PATH does not) */
export const PYTHON = '/usr/bin/python3';

/** execFile as a promise of { stdout, stderr }; rejects with the error (carrying stdout, stderr and code) on failure */
export const run = promisify(execFile);

export interface StopOptions {
  /** how to ask the child to exit; SIGTERM unless given (e.g. closing its stdin) */
  ask?: (child: ChildProcess) => void;
  /** how long to wait for it to exit before SIGKILL */
  graceMs?: number;
}

/** Asks a child to exit, waits up to `graceMs` for it, then kills it with SIGKILL; nothing if it has already exited. */
export async function stopProcess(child: ChildProcess | undefined, { ask = (c) => c.kill('SIGTERM'), graceMs = 5000 }: StopOptions = {}): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  ask(child);
  await Promise.race([exited, sleep(graceMs)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(graceMs)]);
  }
}
