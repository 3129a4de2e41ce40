/**
 * Replay inputs that only Python can read: a legacy `.pkls` capture (a sequence of pickles of
 * InternalWorkerMessage objects or of raw frame lists) and a Python source class
 * (`--source module:Class`, its `get_source_generators()` merged by event number). The helper
 * `python -m dranspose.host.events` streams them to us as a CBOR sequence.
 */
import { spawn } from 'node:child_process';
import { DecoderStream } from 'cbor-x';
import type { EventData, StreamData } from '../core/types.js';
import { pythonEnvironment, pythonInterpreter } from '../python/interpreter.js';

export type PythonItem = { kind: 'event'; event: EventData } | { kind: 'raw'; frames: Buffer[] };

type WireItem = ['event', number, Record<string, [string, Uint8Array[]]>] | ['raw', Uint8Array[]];

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export async function* pythonItems(mode: 'pkls' | 'source', argument: string, cwd = process.cwd()): AsyncGenerator<PythonItem> {
  const child = spawn(pythonInterpreter(), ['-m', 'dranspose.host.events', mode, argument], { cwd, env: pythonEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
  const errors: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const spawnFailed = new Promise<never>((_, reject) => child.on('error', (error) => reject(new Error(`cannot start ${pythonInterpreter()}: ${error.message}`))));
  spawnFailed.catch(() => undefined);
  try {
    for await (const item of child.stdout.pipe(new DecoderStream({ mapsAsObjects: true })) as AsyncIterable<WireItem>) {
      if (item[0] === 'raw') {
        yield { kind: 'raw', frames: item[1].map(asBuffer) };
        continue;
      }
      const streams: Record<string, StreamData> = {};
      for (const [name, [typ, frames]] of Object.entries(item[2])) streams[name] = { typ, frames: frames.map(asBuffer) };
      yield { kind: 'event', event: { eventNumber: item[1], streams } };
    }
    const code = await Promise.race([exited, spawnFailed]);
    if (code !== 0) {
      const lines = errors.join('').trim().split('\n');
      throw new Error(`${mode === 'pkls' ? `reading ${argument}` : `source ${argument}`} failed: ${lines[lines.length - 1] ?? `exit code ${code}`}`);
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
}
